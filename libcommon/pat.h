/*
 * pat: host-name and address patterns with wildcards.
 *
 * Host patterns match a host name, case-insensitively, ignoring one
 * trailing dot on either side:
 *   mail.example.com      that name only
 *   *.example.com         any name below example.com (not example.com)
 *   .example.com          example.com and any name below it
 *   other shell globs     fnmatch(3) rules, `*' also matching dots
 * Address patterns match "local@domain" case-insensitively (RFC 5321
 * section 2.4 lets local parts be case-sensitive, but an administrator's
 * list means the mailbox, whatever its spelling; listed under CAVEATS):
 *   user@dom    exactly;   @dom or *@dom   any local part at dom;
 *   *@*.dom     any local part below dom;  user@*  that local part anywhere;
 *   other globs fnmatch(3) on the whole address.
 * An empty sender (null reverse-path) is matched by the pattern "<>".
 */
#ifndef MG_PAT_H
#define MG_PAT_H

/* 1 if name matches the host pattern pat, else 0. */
int	pat_match_host(const char *pat, const char *name);
/* 1 if addr ("local@domain", or "" for <>) matches pat, else 0. */
int	pat_match_addr(const char *pat, const char *addr);
/* 1 if the pattern has glob characters other than the forms above. */
int	pat_is_glob(const char *pat);

#endif
