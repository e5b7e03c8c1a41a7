#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

const char *
spool_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir != NULL && *dir != '\0' ? dir : "/tmp";
}

int
spool_fd(const char *tag, struct mgerr *e)
{
	char path[PATH_MAX];
	const char *dir = spool_dir();
	int n, fd;

	n = snprintf(path, sizeof(path), "%s/%s.XXXXXX", dir, tag);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		mgerr_temp(e, "%s: %s", dir, strerror(ENAMETOOLONG));
		return -1;
	}
	if ((fd = mkstemp(path)) == -1) {
		mgerr_temp(e, "%s: %s", dir, strerror(errno));
		return -1;
	}
	unlink(path);
	return fd;
}

FILE *
spool_file(const char *tag, struct mgerr *e)
{
	FILE *fp;
	int fd;

	if ((fd = spool_fd(tag, e)) == -1)
		return NULL;
	if ((fp = fdopen(fd, "w+")) == NULL) {
		mgerr_temp(e, "%s: %s", spool_dir(), strerror(errno));
		close(fd);
	}
	return fp;
}
