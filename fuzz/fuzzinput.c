/*
 * fuzzinput: see fuzzinput.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzinput.h"

void
fuzz_parts_init(struct fuzz_parts *fp, const uint8_t *data, size_t size)
{
	if ((fp->buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(fp->buf, data, size);
	fp->buf[size] = '\0';
	fp->p = fp->buf;
	fp->end = fp->buf + size;
}

char *
fuzz_part(struct fuzz_parts *fp)
{
	char *s = fp->p;

	/* end points at the NUL after the copy: "" from then on. */
	if (s >= fp->end)
		return fp->end;
	fp->p += strlen(s) + 1;
	return s;
}

void
fuzz_parts_free(struct fuzz_parts *fp)
{
	free(fp->buf);
	fp->buf = fp->p = fp->end = NULL;
}

static struct {
	char	path[64];
	int	fd;
} files[FUZZ_FILES];

static void
remove_files(void)
{
	int i;

	for (i = 0; i < FUZZ_FILES; i++)
		if (files[i].path[0] != '\0')
			unlink(files[i].path);
}

const char *
fuzz_file(int slot, const void *p, size_t n)
{
	static int registered;

	if (slot < 0 || slot >= FUZZ_FILES)
		abort();
	if (files[slot].path[0] == '\0') {
		snprintf(files[slot].path, sizeof(files[slot].path),
		    "/tmp/mg-fuzz.XXXXXX");
		if ((files[slot].fd = mkstemp(files[slot].path)) == -1)
			abort();
		if (!registered++)
			atexit(remove_files);
	}
	if (ftruncate(files[slot].fd, 0) == -1 ||
	    pwrite(files[slot].fd, p, n, 0) != (ssize_t)n)
		abort();
	return files[slot].path;
}
