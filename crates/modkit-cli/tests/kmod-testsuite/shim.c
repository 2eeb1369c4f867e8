// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * A preload library for running kmod 34.2's own test suite with modkit's
 * tools in place of kmod's (scripts/kmod-testsuite.sh). It is loaded before
 * the suite's own preload libraries (path.so, init_module.so, ...), and only
 * fills their gaps for a program written in Rust:
 *
 * - path.so moves absolute paths into the test's root directory for the
 *   calls kmod's C code makes (open, stat, fopen, opendir, mkdir...). Rust's
 *   standard library also checks files with statx(2) and moves, removes and
 *   resolves them with rename, unlink, readlink and realpath, which path.so
 *   leaves alone: they are moved here the same way (same rule: an absolute
 *   path outside the build directory gets $TESTSUITE_ROOTFS in front).
 * - init_module.so replaces syscall(2) and aborts on any call but
 *   finit_module and gettid; Rust's standard library makes others (futex,
 *   to wait on a lock). Those go to the C library's syscall here; the
 *   finit_module call goes on to init_module.so.
 *
 * Nothing here changes modkit; it makes the harness see what modkit does.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef BUILDDIR
#error "compile with -DBUILDDIR=\"/path/to/kmod/build\""
#endif

/* The path to use for `path`: moved under $TESTSUITE_ROOTFS when it is
 * absolute and outside the build directory (path.so's rule). */
static const char *moved(const char *path, char buf[PATH_MAX * 2])
{
	const char *root = getenv("TESTSUITE_ROOTFS");
	size_t rl, pl;

	if (root == NULL || path == NULL || path[0] != '/' ||
	    strncmp(path, BUILDDIR, strlen(BUILDDIR)) == 0)
		return path;
	rl = strlen(root);
	pl = strlen(path);
	if (rl + pl + 1 > PATH_MAX * 2) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(buf, root, rl);
	memcpy(buf + rl, path, pl + 1);
	return buf;
}

static void *next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (f == NULL)
		abort();
	return f;
}

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *st)
{
	static int (*fn)(int, const char *, int, unsigned int, struct statx *);
	char buf[PATH_MAX * 2];
	const char *p = moved(path, buf);

	if (fn == NULL)
		fn = next("statx");
	if (p == NULL)
		return -1;
	return fn(dirfd, p, flags, mask, st);
}

#define WRAP1(ret, name)                                      \
	ret name(const char *path)                            \
	{                                                     \
		static ret (*fn)(const char *);               \
		char buf[PATH_MAX * 2];                       \
		const char *p = moved(path, buf);             \
		if (fn == NULL)                               \
			fn = next(#name);                     \
		if (p == NULL)                                \
			return -1;                            \
		return fn(p);                                 \
	}

WRAP1(int, unlink)
WRAP1(int, rmdir)

int access(const char *path, int mode)
{
	static int (*fn)(const char *, int);
	char buf[PATH_MAX * 2];
	const char *p = moved(path, buf);

	if (fn == NULL)
		fn = next("access");
	if (p == NULL)
		return -1;
	return fn(p, mode);
}

int rename(const char *from, const char *to)
{
	static int (*fn)(const char *, const char *);
	char b1[PATH_MAX * 2], b2[PATH_MAX * 2];
	const char *f = moved(from, b1), *t = moved(to, b2);

	if (fn == NULL)
		fn = next("rename");
	if (f == NULL || t == NULL)
		return -1;
	return fn(f, t);
}

ssize_t readlink(const char *path, char *out, size_t size)
{
	static ssize_t (*fn)(const char *, char *, size_t);
	char buf[PATH_MAX * 2];
	const char *p = moved(path, buf);

	if (fn == NULL)
		fn = next("readlink");
	if (p == NULL)
		return -1;
	return fn(p, out, size);
}

char *realpath(const char *path, char *resolved)
{
	static char *(*fn)(const char *, char *);
	char buf[PATH_MAX * 2];
	const char *p = moved(path, buf);
	const char *root = getenv("TESTSUITE_ROOTFS");
	char *r;
	size_t rl;

	if (fn == NULL)
		fn = next("realpath");
	if (p == NULL)
		return NULL;
	r = fn(p, resolved);
	/* the answer is a path inside the root: give it back as the program
	 * named it, without the root */
	if (r != NULL && p != path && root != NULL) {
		rl = strlen(root);
		while (rl > 1 && root[rl - 1] == '/')
			rl--;
		if (strncmp(r, root, rl) == 0 && (r[rl] == '/' || r[rl] == '\0'))
			memmove(r, r + rl, strlen(r + rl) + 1);
		if (r[0] == '\0')
			strcpy(r, "/");
	}
	return r;
}

long syscall(long number, ...)
{
	static long (*libc_syscall)(long, ...);
	static long (*next_syscall)(long, ...);
	long a[6];
	va_list ap;
	int i;

	va_start(ap, number);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == __NR_finit_module) {
		if (next_syscall == NULL)
			next_syscall = next("syscall");
		return next_syscall(number, a[0], a[1], a[2]);
	}
	if (libc_syscall == NULL) {
		void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
		if (libc == NULL || (libc_syscall = dlsym(libc, "syscall")) == NULL)
			abort();
	}
	return libc_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
