/* Generates glibc's answers for POSIX extended regular expressions, the
 * golden file crates/modkit/tests/golden/ere/glibc.tsv that the test
 * crates/modkit/tests/ere_vs_glibc.rs compares modkit's compat::ere with.
 *
 * Patterns are built from tokens of the ERE syntax depmod.d patterns use
 * and its corners (groups, intervals, brackets, anchors, GNU escapes,
 * back-references, and invalid pieces); subjects are kernel versions and
 * short strings over the same alphabet. Each case is run as kmod's depmod
 * runs it: regcomp(REG_EXTENDED | REG_NOSUB), then regexec on the subject.
 *
 * Output, one case a line, tab-separated:
 *   regcomp's return (0 when it compiled)
 *   regexec's return (0 match, 1 no match; "-" when regcomp failed)
 *   the pattern
 *   the subject
 * The first line is a comment naming the glibc version.
 *
 * Regenerate (see README.md beside this file):
 *   cc -O2 -o /tmp/ere-gen gen.c && /tmp/ere-gen > glibc.tsv
 */
#include <gnu/libc-version.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CASES 24000

static uint64_t state = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	/* xorshift64*: fixed seed, so the cases never change. */
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545f4914f6cdd1dull;
}

static size_t below(size_t n)
{
	return (size_t)(next() % n);
}

static const char *const tokens[] = {
	"6", "1", "0", "2", "5", ".", "-", "a", "m", "d", "x", "amd64",
	"\\.", "\\-", "\\+", "+", "*", "?", "|", "(", ")", "()", "(|)",
	"{1}", "{0}", "{2}", "{0,1}", "{1,2}", "{2,}", "{,2}", "{1", "{2,1}",
	"[0-9]", "[^0-9]", "[a-z]", "[^a-z.]", "[.-]", "[-a]", "[]a]", "[^]]",
	"[[:digit:]]", "[[:alpha:]]", "[[:alnum:]_]", "[[:space:]]",
	"[[:punct:]]", "[[:upper:]]", "[[:bogus:]]", "[[:alpha:]-z]",
	"[[.-.]]", "[[=a=]]", "[z-a]", "[a", "]", "^", "$", "\\1", "\\2",
	"\\b", "\\B", "\\<", "\\>", "\\w", "\\W", "\\s", "\\S", "\\`", "\\'",
	"\\", "\\a", "(a*)", "(a|b)", "(6|12)", "([0-9]+)", "(.)", "(1|12)",
};

static const char *const subjects[] = {
	"6.1.0-50-amd64", "6.12.9+bpo-amd64", "5.10.0-23-arm64", "6.1.0-50-rt-amd64",
	"", "a", "aa", "aaab", "ab-ab", "6.1.6.1", "1.12.12", "amd64 x",
};

static const char alphabet[] = "0125.-abdmx_ +";

int main(void)
{
	printf("# glibc %s: regcomp(REG_EXTENDED|REG_NOSUB), regexec\n", gnu_get_libc_version());
	for (int i = 0; i < CASES; i++) {
		char pattern[256] = "";
		size_t ntok = 1 + below(7);
		for (size_t t = 0; t < ntok; t++)
			strcat(pattern, tokens[below(sizeof tokens / sizeof tokens[0])]);
		char subject[32];
		if (below(2)) {
			strcpy(subject, subjects[below(sizeof subjects / sizeof subjects[0])]);
		} else {
			size_t len = below(13);
			for (size_t k = 0; k < len; k++)
				subject[k] = alphabet[below(sizeof alphabet - 1)];
			subject[len] = '\0';
		}
		regex_t re;
		int comp = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
		if (comp != 0) {
			printf("%d\t-\t%s\t%s\n", comp, pattern, subject);
			continue;
		}
		int exec = regexec(&re, subject, 0, NULL, 0);
		printf("0\t%d\t%s\t%s\n", exec, pattern, subject);
		regfree(&re);
	}
	return 0;
}
