/* Unit tests for spool: unlinked temporary files under $TMPDIR. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "t.h"

int
main(void)
{
	char dir[] = "/tmp/test_spool.XXXXXX", buf[8];
	struct mgerr e;
	struct stat st;
	FILE *fp;
	int fd;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("TMPDIR");
	T_STR(spool_dir(), "/tmp");
	setenv("TMPDIR", "", 1);
	T_STR(spool_dir(), "/tmp");
	setenv("TMPDIR", dir, 1);
	T_STR(spool_dir(), dir);

	/* The file is made, private, and already gone from the directory. */
	fd = spool_fd("mg-test", &e);
	T_OK(fd != -1);
	T_INT(t_count_dir(dir), 0);
	T_OK(fstat(fd, &st) == 0 && (st.st_mode & 077) == 0 &&
	    st.st_nlink == 0);
	T_INT(write(fd, "abc", 3), 3);
	T_INT(lseek(fd, 0, SEEK_SET), 0);
	T_INT(read(fd, buf, sizeof(buf)), 3);
	close(fd);

	fp = spool_file("mg-test", &e);
	T_OK(fp != NULL);
	T_INT(t_count_dir(dir), 0);
	if (fp != NULL) {
		T_INT(fputs("line\n", fp) >= 0, 1);
		rewind(fp);
		T_STR(fgets(buf, sizeof(buf), fp), "line\n");
		fclose(fp);
	}

	/* A directory that is not there: a temporary error naming it. */
	setenv("TMPDIR", "/nonexistent/spool", 1);
	T_INT(spool_fd("mg-test", &e), -1);
	T_INT(e.temp, 1);
	T_OK(strncmp(e.msg, "/nonexistent/spool: ", 20) == 0);
	T_OK(spool_file("mg-test", &e) == NULL);
	T_INT(e.temp, 1);

	rmdir(dir);
	return t_done("spool");
}
