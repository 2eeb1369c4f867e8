/* The reference for crates/modkit/src/compat/fnmatch.rs: glibc's own
 * fnmatch(3), called as kmod calls it (flags 0, C locale).
 *
 * Reads NUL-terminated pattern/string pairs from standard input and writes
 * one byte per pair: '1' when fnmatch(pattern, string, 0) returns 0 (a
 * match), '0' otherwise. Built and run by tests/fnmatch_vs_glibc.rs. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	char *pattern = NULL, *string = NULL;
	size_t pattern_size = 0, string_size = 0;

	while (getdelim(&pattern, &pattern_size, '\0', stdin) > 0 &&
	       getdelim(&string, &string_size, '\0', stdin) > 0)
		putchar(fnmatch(pattern, string, 0) == 0 ? '1' : '0');
	free(pattern);
	free(string);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
