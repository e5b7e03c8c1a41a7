/*
 * fuzzinput: what several fuzz targets do with their input: cut it into
 * parts at NUL bytes (so no part holds one), and give a part to code that
 * reads a file.
 */
#ifndef MG_FUZZINPUT_H
#define MG_FUZZINPUT_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_parts {
	char	*buf, *p, *end;
};

/* Copies data (with a NUL after it) for cutting; aborts when out of
 * memory.  fuzz_parts_free frees the copy and every part. */
void	fuzz_parts_init(struct fuzz_parts *fp, const uint8_t *data,
	    size_t size);
/* The next part, up to the next NUL; "" once the input is used up. */
char	*fuzz_part(struct fuzz_parts *fp);
void	fuzz_parts_free(struct fuzz_parts *fp);

/*
 * Makes the content of the temporary file slot (0 to FUZZ_FILES - 1) the
 * n bytes at p, and returns its path.  The file is made, mode 0600, at
 * its first use and removed at exit.  Aborts on an I/O error.
 */
#define FUZZ_FILES	4
const char *fuzz_file(int slot, const void *p, size_t n);

#endif
