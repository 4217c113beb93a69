// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect_json - strict JSON checker and flattener for the kintrospect
 * selftests.
 *
 * kintrospect exports its snapshots as JSON files in debugfs, e.g.
 * /sys/kernel/debug/kintrospect/cpus.json. The selftests run in a busybox VM
 * without jq or python, so this helper checks that such a file holds exactly
 * one JSON value (RFC 8259, strictly: no extensions, valid UTF-8, nesting
 * depth at most 64) and prints it flattened, one line per scalar, so that
 * the shell tests can grep and cut it:
 *
 *	.seq=3
 *	.source="control"
 *	.cpus#=4
 *	.cpus[0].cpu=0
 *	.cpus[0].pid=null
 *	.cpus[0].frames#=1
 *	.cpus[0].frames[0]="kintrospect_test_spin_loop+0x1a/0x40 [kintro..."
 *	.cpus[3].frames#=0
 *	.cpus[3].frames=[]
 *
 * Keys made of [A-Za-z0-9_] only are printed as .key, other keys as
 * ["key"]. PATH#=N gives an array's length, before its elements. Numbers are
 * printed as written, strings as ASCII-only JSON strings, empty containers
 * as [] or {}. A top-level scalar prints as .=value.
 *
 * Usage: kintrospect_json [-q] FILE|-
 *	-q	only check, print nothing on success
 *
 * Exit status: 0 valid, 1 invalid JSON (the byte offset of the error, from
 * 0, is printed to stderr), 2 usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG		"kintrospect_json"
#define MAX_DEPTH	64

struct buf {
	char *data;
	size_t len, cap;
};

struct parser {
	const unsigned char *s;
	size_t len, pos;
	int depth;
	bool emit;		/* second pass: print the flattened lines */
	const char *err;
	size_t err_pos;
	struct buf str;		/* the last string read, as UTF-8 */
	struct buf path;	/* the path of the current value */
	struct buf out;		/* scratch for a string value */
	struct buf counts;	/* array lengths (size_t), in order of '[' */
	size_t next_count;
};

static void die_oom(void)
{
	fprintf(stderr, PROG ": out of memory\n");
	exit(2);
}

static void buf_grow(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;

	if (b->cap - b->len >= n)
		return;
	while (cap - b->len < n)
		cap *= 2;
	b->data = realloc(b->data, cap);
	if (!b->data)
		die_oom();
	b->cap = cap;
}

static void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

static void buf_add_u(struct buf *b, unsigned int cp)
{
	char tmp[12];

	snprintf(tmp, sizeof(tmp), "\\u%04x", cp);
	buf_add(b, tmp, 6);
}

/* Append a code point as UTF-8. */
static void buf_add_utf8(struct buf *b, unsigned int cp)
{
	static const unsigned char lead[] = { 0, 0, 0xc0, 0xe0, 0xf0 };
	int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4, i;
	char u[4];

	for (i = n - 1; i > 0; i--, cp >>= 6)
		u[i] = 0x80 | (cp & 0x3f);
	u[0] = lead[n] | cp;
	buf_add(b, u, n);
}

/* Append valid UTF-8 as a JSON string made only of printable ASCII. */
static void buf_add_json(struct buf *b, const unsigned char *s, size_t n)
{
	static const char from[] = "\"\\\n\t\r", to[] = "\"\\ntr";
	size_t i = 0;

	buf_addc(b, '"');
	while (i < n) {
		unsigned int c = s[i++];
		const char *e = c && c < 0x80 ? strchr(from, c) : NULL;

		if (c >= 0x80) {
			int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;

			for (c &= 0x3f >> more; more; more--)
				c = c << 6 | (s[i++] & 0x3f);
		}
		if (e) {
			buf_addc(b, '\\');
			buf_addc(b, to[e - from]);
		} else if (c >= 0x10000) {
			buf_add_u(b, 0xd800 + ((c - 0x10000) >> 10));
			buf_add_u(b, 0xdc00 + (c & 0x3ff));
		} else if (c < 0x20 || c >= 0x7f) {
			buf_add_u(b, c);
		} else {
			buf_addc(b, c);
		}
	}
	buf_addc(b, '"');
}

static int fail(struct parser *p, size_t pos, const char *msg)
{
	p->err = msg;
	p->err_pos = pos;
	return -1;
}

/* Fail at the current byte, which was not what was expected. */
static int fail_here(struct parser *p, const char *msg)
{
	if (p->pos >= p->len)
		msg = "unexpected end of input";
	return fail(p, p->pos, msg);
}

static int peek(struct parser *p)
{
	return p->pos < p->len ? p->s[p->pos] : -1;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static void skip_ws(struct parser *p)
{
	int c = peek(p);

	while (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
		p->pos++;
		c = peek(p);
	}
}

static void emit(struct parser *p, const char *suffix, const void *val,
		 size_t n)
{
	if (p->path.len)
		fwrite(p->path.data, 1, p->path.len, stdout);
	else
		putchar('.');
	fputs(suffix, stdout);
	fwrite(val, 1, n, stdout);
	putchar('\n');
}

/* Length of the valid UTF-8 sequence at s, 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xe0)
		lo = 0xa0;	/* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f;	/* UTF-16 surrogate */
	else if (s[0] == 0xf0)
		lo = 0x90;	/* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f;	/* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* The value of the 4 hex digits at s, -1 if there are none. */
static int hex4(const unsigned char *s, size_t n)
{
	int v = 0;
	size_t i;

	if (n < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		int c = s[i];

		if (is_digit(c))
			v = v * 16 + c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v * 16 + (c | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return v;
}

/* The escape sequence at the backslash at p->pos. */
static int parse_escape(struct parser *p)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	size_t at = p->pos;
	const char *e;
	int cp, lo;

	if (at + 1 >= p->len)
		return fail(p, at + 1, "unexpected end of input");
	p->pos += 2;
	e = p->s[at + 1] ? strchr(from, p->s[at + 1]) : NULL;
	if (e) {
		buf_addc(&p->str, to[e - from]);
		return 0;
	}
	if (p->s[at + 1] != 'u')
		return fail(p, at, "invalid escape in string");
	cp = hex4(p->s + p->pos, p->len - p->pos);
	if (cp < 0)
		return fail(p, at, "invalid \\u escape");
	p->pos += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(p, at, "unpaired low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		lo = -1;
		if (p->len - p->pos >= 6 && p->s[p->pos] == '\\' &&
		    p->s[p->pos + 1] == 'u')
			lo = hex4(p->s + p->pos + 2, p->len - p->pos - 2);
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(p, at, "unpaired high surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p->pos += 6;
	}
	buf_add_utf8(&p->str, cp);
	return 0;
}

/* The string at p->pos, decoded into p->str. */
static int parse_string(struct parser *p)
{
	size_t start = p->pos++, n;

	p->str.len = 0;
	for (;;) {
		int c = peek(p);

		if (c < 0)
			return fail(p, start, "unterminated string");
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, p->pos, "control character in string");
		if (c == '\\') {
			if (parse_escape(p))
				return -1;
			continue;
		}
		n = utf8_seq(p->s + p->pos, p->len - p->pos);
		if (!n)
			return fail(p, p->pos, "invalid UTF-8 in string");
		buf_add(&p->str, p->s + p->pos, n);
		p->pos += n;
	}
	p->pos++;
	return 0;
}

/* Skip one or more digits. */
static int digits(struct parser *p, const char *msg)
{
	if (!is_digit(peek(p)))
		return fail_here(p, msg);
	while (is_digit(peek(p)))
		p->pos++;
	return 0;
}

static int parse_number(struct parser *p)
{
	size_t start = p->pos;

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0') {
		if (p->pos + 1 < p->len && is_digit(p->s[p->pos + 1]))
			return fail_here(p, "leading zero in number");
		p->pos++;
	} else if (digits(p, "expected a digit")) {
		return -1;
	}
	if (peek(p) == '.') {
		p->pos++;
		if (digits(p, "expected a digit after '.'"))
			return -1;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (digits(p, "expected a digit in the exponent"))
			return -1;
	}
	if (p->emit)
		emit(p, "=", p->s + start, p->pos - start);
	return 0;
}

static int parse_literal(struct parser *p, const char *lit)
{
	size_t n = strlen(lit);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n))
		return fail(p, p->pos, "invalid literal");
	if (p->emit)
		emit(p, "=", lit, n);
	p->pos += n;
	return 0;
}

static int parse_value(struct parser *p);

/* Append the key in p->str to the path. */
static void path_add_key(struct parser *p)
{
	bool plain = p->str.len > 0;
	size_t i;

	for (i = 0; i < p->str.len; i++) {
		char c = p->str.data[i];

		if (!(is_digit(c) || c == '_' || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z')))
			plain = false;
	}
	if (plain) {
		buf_addc(&p->path, '.');
		buf_add(&p->path, p->str.data, p->str.len);
		return;
	}
	if (!p->path.len)
		buf_addc(&p->path, '.');
	buf_addc(&p->path, '[');
	buf_add_json(&p->path, (unsigned char *)p->str.data, p->str.len);
	buf_addc(&p->path, ']');
}

/* Before a member's value: the key and ':' or the index, to the path. */
static int parse_member(struct parser *p, bool array, size_t i)
{
	char tmp[32];

	if (array) {
		if (p->emit) {
			if (!p->path.len)
				buf_addc(&p->path, '.');
			snprintf(tmp, sizeof(tmp), "[%zu]", i);
			buf_add(&p->path, tmp, strlen(tmp));
		}
		return 0;
	}
	if (peek(p) != '"')
		return fail_here(p, "expected a string key");
	if (parse_string(p))
		return -1;
	skip_ws(p);
	if (peek(p) != ':')
		return fail_here(p, "expected ':'");
	p->pos++;
	if (p->emit)
		path_add_key(p);
	return 0;
}

/* The object or array at p->pos. */
static int parse_container(struct parser *p)
{
	bool array = p->s[p->pos] == '[';
	char close = array ? ']' : '}', tmp[32];
	size_t base = p->path.len, slot = p->counts.len, n = 0;

	if (++p->depth > MAX_DEPTH)
		return fail(p, p->pos, "nesting deeper than 64");
	p->pos++;
	if (array && p->emit) {
		memcpy(&n, p->counts.data + p->next_count, sizeof(n));
		p->next_count += sizeof(n);
		snprintf(tmp, sizeof(tmp), "%zu", n);
		emit(p, "#=", tmp, strlen(tmp));
	} else if (array) {
		buf_add(&p->counts, &n, sizeof(n));
	}
	skip_ws(p);
	if (peek(p) == close) {
		if (p->emit)
			emit(p, "=", array ? "[]" : "{}", 2);
	} else {
		for (n = 1;; n++) {
			if (parse_member(p, array, n - 1) || parse_value(p))
				return -1;
			p->path.len = base;
			skip_ws(p);
			if (peek(p) == close)
				break;
			if (peek(p) != ',')
				return fail_here(p, array ? "expected ',' or ']'"
							  : "expected ',' or '}'");
			p->pos++;
			skip_ws(p);
			if (peek(p) == close)
				return fail_here(p, "trailing comma");
		}
	}
	if (array && !p->emit)
		memcpy(p->counts.data + slot, &n, sizeof(n));
	p->pos++;
	p->depth--;
	return 0;
}

static int parse_value(struct parser *p)
{
	int c;

	skip_ws(p);
	c = peek(p);
	switch (c) {
	case '{':
	case '[':
		return parse_container(p);
	case '"':
		if (parse_string(p))
			return -1;
		if (p->emit) {
			p->out.len = 0;
			buf_add_json(&p->out, (unsigned char *)p->str.data,
				     p->str.len);
			emit(p, "=", p->out.data, p->out.len);
		}
		return 0;
	case 't':
		return parse_literal(p, "true");
	case 'f':
		return parse_literal(p, "false");
	case 'n':
		return parse_literal(p, "null");
	}
	if (c == '-' || is_digit(c))
		return parse_number(p);
	return fail_here(p, "expected a value");
}

static int parse_document(struct parser *p, bool emit)
{
	p->pos = 0;
	p->depth = 0;
	p->emit = emit;
	p->next_count = 0;
	p->path.len = 0;
	if (parse_value(p))
		return -1;
	skip_ws(p);
	if (p->pos < p->len)
		return fail(p, p->pos, "trailing data after the JSON value");
	return 0;
}

static int read_all(int fd, struct buf *b)
{
	for (;;) {
		ssize_t r;

		buf_grow(b, 65536);
		r = read(fd, b->data + b->len, b->cap - b->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r;
		b->len += r;
	}
}

static void print_usage(void)
{
	fprintf(stderr, "usage: " PROG " [-q] FILE|-\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct parser p = { 0 };
	struct buf in = { 0 };
	const char *name;
	bool quiet = false;
	int opt, fd;

	while ((opt = getopt(argc, argv, "q")) != -1) {
		if (opt != 'q')
			print_usage();
		quiet = true;
	}
	if (argc - optind != 1)
		print_usage();
	name = argv[optind];

	if (!strcmp(name, "-")) {
		name = "<stdin>";
		fd = STDIN_FILENO;
	} else {
		fd = open(name, O_RDONLY);
	}
	if (fd < 0 || read_all(fd, &in)) {
		fprintf(stderr, PROG ": %s: %s\n", name, strerror(errno));
		return 2;
	}
	if (fd != STDIN_FILENO)
		close(fd);

	p.s = (const unsigned char *)in.data;
	p.len = in.len;
	if (parse_document(&p, false)) {
		fprintf(stderr, PROG ": %s: invalid JSON at byte %zu: %s\n",
			name, p.err_pos, p.err);
		return 1;
	}
	if (quiet)
		return 0;
	parse_document(&p, true);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, PROG ": write error: %s\n", strerror(errno));
		return 2;
	}
	return 0;
}
