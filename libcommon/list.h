/*
 * list: list files (IP screens, host screens, address blacklists) and
 * their compiled form.
 *
 * A list is a text file, one entry a line:
 *	ENTRY [VALUE...]	# comment
 * `#' starts a comment at the start of a line or after whitespace (so
 * "a#b" is an entry); blank lines are ignored; CRLF is accepted.  VALUE is
 * the rest of the line up to a comment, trailing blanks removed, kept as
 * a string ("allow", "deny", a reply text); a line without one has "".
 * ENTRY is classified when loaded, so one list may mix kinds:
 *	contains `@', or is `<>'	an address pattern (see pat.h):
 *		user@dom, @dom, *@dom, *@*.dom, user@*, `<>' (null sender),
 *		other globs
 *	contains `/' or `:', or only digits and dots
 *		an IPv4 or IPv6 CIDR (cidr_parse); a bare address is a /32 or
 *		/128; host bits set below the prefix are an error
 *	anything else			a host pattern (see pat.h):
 *		mail.example.com, *.example.com, .example.com, other globs
 * Names are compared case-insensitively, without a trailing dot.
 * A malformed line fails the whole list with "FILE:LINE: reason".
 *
 * The most specific match wins and its value is returned.  For IPs that
 * is the longest prefix.  For host names: the exact name, then
 * `.name', then for each parent domain from the nearest up, `*.parent'
 * then `.parent'.  For addresses: `user@dom', then `@dom', then
 * `*@*.parent' from the nearest parent up, then `user@*'.  Globs (any
 * other pattern with `*', `?', `[' or `\') are tried last, in file order,
 * one by one: they cost a linear scan, so keep them few.  Between equal
 * entries the first in the file wins.  An IPv6 prefix such as ::/0 also
 * covers IPv4 clients, as IPv4 lives in ::ffff:0:0/96 (ip.h).
 *
 * Compiled form, PATH.mgc, in host byte order (a file from a host of
 * the other order fails the endianness check and is ignored):
 *	header	struct list_hdr below: magic "MGL1", version, 0x01020304,
 *		the size, inode, mtime and FNV-1a 64 hash of the text it
 *		was built from, when the text was read, and where each
 *		section lies (byte offsets from the start of the file)
 *	lens	{len, start, count} per distinct prefix length, longest
 *		first: the CIDRs of one length are cidr[start..start+count)
 *	cidr	{16-byte network, value} sorted by (length desc, network),
 *		so an IP lookup is one binary search per distinct length
 *	keys	{key, value} sorted by strcmp(3) of the key: "H" + host
 *		key or "A" + address key, normalised as in the order above
 *		("Hmail.example.com", "H*.example.com", "A@example.com",
 *		"A@*.example.com", "Auser@", "A<>")
 *	globs	{pattern, value, kind} in file order
 *	strings	NUL-terminated keys, patterns and values; every other
 *		section refers to it by offset, and offset 0 is ""
 * Opening checks the header and the section bounds only (constant time);
 * each offset is checked again when a lookup uses it, so a corrupt file
 * can never make a lookup read outside the mapping.
 * The compiled form is trusted when it records the text's current size,
 * inode and mtime.  If the text's mtime was within two seconds of when
 * it was read for compiling, a later edit could keep the same mtime
 * (file systems stamp with a coarse clock), so the text is then hashed
 * and compared as well: slower, but never stale.  list_open with compile
 * set rewrites such a file once the text is older than that, so later
 * opens are constant time again.  PATH.mgc is only ever replaced by
 * rename(2); truncating a mapped one in place would fault its readers.
 */
#ifndef MG_LIST_H
#define MG_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ip.h"

#define LIST_LINE_MAX	4096		/* bytes in one line */
/* Bytes in one ENTRY: room for a path (RFC 5321 section 4.5.3.1.3, 256
 * octets) or a name (RFC 1035 section 2.3.4, 255) and a glob around it. */
#define LIST_ENTRY_MAX	512
#define LIST_SIZE_MAX	(1UL << 30)	/* bytes in a list file */
#define LIST_SUFFIX	".mgc"

#define LIST_MAGIC	"MGL1"
#define LIST_VERSION	1
#define LIST_ENDIAN	0x01020304U

struct list_hdr {
	char		magic[4];	/* LIST_MAGIC */
	uint32_t	version;	/* LIST_VERSION */
	uint32_t	endian;		/* LIST_ENDIAN */
	uint32_t	hdrsize;	/* sizeof(struct list_hdr) */
	uint64_t	src_size;	/* the text's st_size */
	uint64_t	src_ino;	/* the text's st_ino */
	int64_t		src_sec;	/* the text's st_mtim */
	int64_t		src_nsec;
	int64_t		read_sec;	/* when the text was read */
	uint64_t	src_hash;	/* FNV-1a 64 of the text */
	uint64_t	total;		/* bytes in the whole file */
	uint64_t	count;		/* entries read, duplicates included */
	uint32_t	nlens, lens_off;
	uint32_t	ncidr, cidr_off;
	uint32_t	nkeys, keys_off;
	uint32_t	nglobs, globs_off;
	uint32_t	str_len, str_off;
};

struct list;	/* opaque; an mmapped .mgc or the same image in memory */

/*
 * Opens a list for lookups.  If PATH.mgc is current (see above) it is
 * mapped and PATH is not parsed.  Otherwise PATH is parsed; if compile
 * is 1 the compiled form is written (to a temporary file in the same
 * directory, then rename(2), so readers never see half a file).  If
 * writing fails, the parsed list is used all the same and warn (if not
 * NULL) gets a one-line warning, "cannot write PATH.mgc: reason", for
 * the caller to print after its "warning: "; otherwise warn is "".
 * Returns NULL and sets e ("PATH:LINE: reason" for a bad line).
 */
struct list	*list_open(const char *path, int compile, char *warn,
		    size_t warnlen, struct mgerr *e);
/*
 * Takes list_load's warning, one line such as "cannot write PATH.mgc:
 * reason" with the format "%s"; log_warn fits.
 */
typedef void	 list_warn_fn(const char *fmt, ...);
/*
 * list_open for a program's list option: a NULL path opens nothing (*l
 * NULL); a warning from the compiler is not fatal and goes to warn (if
 * not NULL) for the caller to report.  0, or -1 and e set.
 */
int		 list_load(const char *path, int compile, struct list **l,
		    list_warn_fn *warn, struct mgerr *e);
/* Parses PATH and writes PATH.mgc unconditionally (`mg-screen compile'
 * from cron).  Returns the number of entries, or -1 and sets e. */
long		 list_compile(const char *path, struct mgerr *e);
void		 list_close(struct list *l);
/* Entries read from the text, duplicates included. */
size_t		 list_count(const struct list *l);
/* 1 if l was served from PATH.mgc without parsing the text, else 0. */
int		 list_is_compiled(const struct list *l);

/*
 * Lookups return 1 and set *value (if value is not NULL) to the value of
 * the most specific matching entry, a string owned by l and valid until
 * list_close ("" when the line had none); 0 when nothing matches.
 * addr is "local@domain", and "" (or "<>") is the null sender.
 */
int	list_match_ip(const struct list *l, const struct ipaddr *ip,
	    const char **value);
int	list_match_host(const struct list *l, const char *name,
	    const char **value);
int	list_match_addr(const struct list *l, const char *addr,
	    const char **value);

#endif
