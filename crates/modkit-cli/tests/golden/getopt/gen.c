/* Generates the getopt goldens: runs every case of cases.txt through the C
 * library's getopt_long (or getopt) with the option tables of tables.txt and
 * prints what it returned and printed, in the format expected.txt holds and
 * crates/modkit-cli/src/compat/getopt/tests.rs reads.
 *
 *   gcc -O2 -Wall -Wextra -o gen gen.c
 *   ./gen tables.txt cases.txt > expected.txt
 *
 * expected.txt is made with glibc 2.41 (what Debian trixie's kmod and
 * util-linux run with): see README.md for running this program through
 * trixie's loader on a machine with another glibc.
 *
 * Escaping (same in all three files): a byte of an argument or of a glibc
 * message that is '\', '<', '>' or outside 0x20..0x7e is written \xHH, so
 * every line is printable ASCII and arguments can be wrapped in <...>.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <gnu/libc-version.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TABLES 32
#define MAX_LONG 64
#define MAX_ARGS 64

struct table {
	char *name;
	char *short_opts;
	int use_getopt;		/* "longopts null": getopt(), no long options */
	int n_long;
	struct option longopts[MAX_LONG + 1];
};

struct test_case {
	char *name;
	struct table *table;
	char *optstring;
	int posixly_correct;
	int opterr;
	int argc;
	char *argv[MAX_ARGS + 1];
};

static struct table tables[MAX_TABLES];
static int n_tables;
static const char *cur_file;
static int cur_line;

static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "gen: %s:%d: ", cur_file, cur_line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d) {
		perror("gen");
		exit(2);
	}
	return d;
}

/* Writes bytes escaped as described at the top. */
static void put_escaped(FILE *f, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c < 0x20 || c > 0x7e || c == '\\' || c == '<' || c == '>')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* Decodes one <...> argument at *p (escaped as above), advancing *p. */
static char *parse_arg(const char **p)
{
	const char *s = *p;
	char *out = malloc(strlen(s) + 1), *o = out;
	if (!out) {
		perror("gen");
		exit(2);
	}
	if (*s++ != '<')
		die("argument must be written <...>");
	while (*s != '>') {
		if (*s == '\0')
			die("unterminated argument");
		if (*s == '\\') {
			unsigned v;
			if (s[1] != 'x' || sscanf(s + 2, "%2x", &v) != 1)
				die("bad escape, only \\xHH");
			if (v == 0)
				die("an argument cannot hold a NUL byte");
			*o++ = (char)v;
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	*p = s + 1;
	return out;
}

static struct table *find_table(const char *name)
{
	for (int i = 0; i < n_tables; i++)
		if (strcmp(tables[i].name, name) == 0)
			return &tables[i];
	return NULL;
}

/* Reads the next line without its newline; returns NULL at the end. */
static char *next_line(FILE *f)
{
	static char *buf;
	static size_t cap;
	ssize_t n = getline(&buf, &cap, f);
	if (n < 0)
		return NULL;
	cur_line++;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf;
}

static FILE *open_input(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	cur_file = path;
	cur_line = 0;
	return f;
}

/* tables.txt: "table NAME", "short OPTSTRING", then "long NAME no|required|
 * optional VAL" lines, or "longopts null" for a table meaning getopt(). */
static void read_tables(const char *path)
{
	FILE *f = open_input(path);
	struct table *t = NULL;
	char *line;
	while ((line = next_line(f))) {
		char name[256], has_arg[16];
		int val;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (strncmp(line, "table ", 6) == 0) {
			if (n_tables == MAX_TABLES)
				die("too many tables");
			t = &tables[n_tables++];
			t->name = xstrdup(line + 6);
			continue;
		}
		if (!t)
			die("\"table NAME\" must come first");
		if (strncmp(line, "short ", 6) == 0) {
			t->short_opts = xstrdup(line + 6);
		} else if (strcmp(line, "longopts null") == 0) {
			t->use_getopt = 1;
		} else if (sscanf(line, "long %255s %15s %d", name, has_arg, &val) == 3) {
			struct option *o;
			if (t->n_long == MAX_LONG)
				die("too many long options");
			o = &t->longopts[t->n_long++];
			o->name = xstrdup(name);
			if (strcmp(has_arg, "no") == 0)
				o->has_arg = no_argument;
			else if (strcmp(has_arg, "required") == 0)
				o->has_arg = required_argument;
			else if (strcmp(has_arg, "optional") == 0)
				o->has_arg = optional_argument;
			else
				die("has_arg must be no, required or optional");
			o->flag = NULL;
			o->val = val;
		} else {
			die("unknown line: %s", line);
		}
	}
	fclose(f);
}

/* One call's result: "ret=VAL arg=<optarg>|- idx=LONGINDEX optind=N", with
 * " optopt=N" after an error return ('?' or ':'). */
static void print_result(int ret, int longindex)
{
	printf("out ret=%d arg=", ret);
	if (optarg) {
		putchar('<');
		put_escaped(stdout, (const unsigned char *)optarg, strlen(optarg));
		putchar('>');
	} else {
		putchar('-');
	}
	printf(" idx=%d optind=%d", longindex, optind);
	if (ret == '?' || ret == ':')
		printf(" optopt=%d", optopt);
	putchar('\n');
}

/* Copies what glibc wrote to standard error since the last call as "err"
 * lines. */
static void copy_stderr(int fd, off_t *pos)
{
	char buf[4096];
	ssize_t n;
	while ((n = pread(fd, buf, sizeof buf, *pos)) > 0) {
		char *s = buf, *end = buf + n, *nl;
		/* glibc writes each message whole, with one newline at its end. */
		while (s < end) {
			nl = memchr(s, '\n', (size_t)(end - s));
			printf("err ");
			put_escaped(stdout, (unsigned char *)s, (size_t)((nl ? nl : end) - s));
			putchar('\n');
			s = nl ? nl + 1 : end;
		}
		*pos += n;
	}
}

/* Runs one case in a child process, so that every case starts from
 * getopt's initial state and environment. */
static void run_case(struct test_case *c)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("gen: fork");
		exit(2);
	}
	if (pid == 0) {
		FILE *err = tmpfile();
		off_t pos = 0;
		int ret, longindex;

		if (!err || dup2(fileno(err), 2) < 0)
			_exit(3);
		unsetenv("POSIXLY_CORRECT");
		if (c->posixly_correct)
			setenv("POSIXLY_CORRECT", "1", 1);
		opterr = c->opterr;
		for (;;) {
			longindex = -1;
			if (c->table->use_getopt)
				ret = getopt(c->argc, c->argv, c->optstring);
			else
				ret = getopt_long(c->argc, c->argv, c->optstring,
						  c->table->longopts, &longindex);
			copy_stderr(fileno(err), &pos);
			if (ret == -1)
				break;
			print_result(ret, longindex);
		}
		printf("out end optind=%d rest=", optind);
		for (int i = optind; i < c->argc; i++) {
			putchar('<');
			put_escaped(stdout, (unsigned char *)c->argv[i], strlen(c->argv[i]));
			putchar('>');
		}
		putchar('\n');
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "gen: case %s failed\n", c->name);
		exit(2);
	}
}

/* Prints a case's input as it is read, so that expected.txt is
 * self-contained. */
static void print_case(const struct test_case *c)
{
	printf("case %s\ntable %s\noptstring %s\n", c->name, c->table->name, c->optstring);
	if (c->posixly_correct)
		printf("posixly_correct 1\n");
	if (!c->opterr)
		printf("opterr 0\n");
	printf("argv");
	for (int i = 0; i < c->argc; i++) {
		printf(" <");
		put_escaped(stdout, (unsigned char *)c->argv[i], strlen(c->argv[i]));
		putchar('>');
	}
	putchar('\n');
}

static void finish_case(struct test_case *c)
{
	if (!c->name)
		return;
	if (!c->table || !c->optstring || c->argc == 0)
		die("case %s needs table, optstring and argv", c->name);
	print_case(c);
	run_case(c);
	putchar('\n');
	memset(c, 0, sizeof *c);
	c->opterr = 1;
}

/* cases.txt: blocks of "case NAME", "table NAME", "optstring S",
 * optional "posixly_correct 1" and "opterr 0", "argv <arg0> <arg1>...". */
static void run_cases(const char *path)
{
	FILE *f = open_input(path);
	struct test_case c = { .opterr = 1 };
	char *line;
	while ((line = next_line(f))) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (strncmp(line, "case ", 5) == 0) {
			finish_case(&c);
			c.name = xstrdup(line + 5);
		} else if (!c.name) {
			die("\"case NAME\" must come first");
		} else if (strncmp(line, "table ", 6) == 0) {
			c.table = find_table(line + 6);
			if (!c.table)
				die("no table %s in the tables file", line + 6);
		} else if (strncmp(line, "optstring ", 10) == 0) {
			c.optstring = xstrdup(line + 10);
		} else if (strcmp(line, "posixly_correct 1") == 0) {
			c.posixly_correct = 1;
		} else if (strcmp(line, "opterr 0") == 0) {
			c.opterr = 0;
		} else if (strncmp(line, "argv ", 5) == 0) {
			const char *p = line + 5;
			while (*p) {
				if (c.argc == MAX_ARGS)
					die("too many arguments");
				c.argv[c.argc++] = parse_arg(&p);
				if (*p == ' ')
					p++;
				else if (*p)
					die("arguments are separated by one space");
			}
		} else {
			die("unknown line: %s", line);
		}
	}
	finish_case(&c);
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s TABLES CASES > EXPECTED\n", argv[0]);
		return 2;
	}
	read_tables(argv[1]);
	printf("# Generated by gen.c from %s and %s with glibc %s; do not edit.\n\n",
	       "tables.txt", "cases.txt", gnu_get_libc_version());
	run_cases(argv[2]);
	return fflush(stdout) == 0 ? 0 : 1;
}
