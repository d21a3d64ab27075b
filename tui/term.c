/* The terminal, decided once at start (after htop's CRT_init): locale and UTF-8, colours or
 * monochrome, line drawing, keys, mouse, the ESC delay; stderr redirected to a file while curses
 * is up; and every exit path (return, exit, a signal, a crash) restoring the terminal. */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tui/ui.h"

/* Process-wide because signal handlers and atexit need them. */
static struct {
	bool active;          /* curses is up */
	bool registered;      /* atexit done */
	SCREEN *screen;
	int saved_stderr;     /* the real stderr while redirected, else -1 */
	int capture_fd;       /* the file stderr goes to */
	char capture_path[4096];
	int sig_pipe[2];
	unsigned attrs[RL_COUNT];
	bool color;
} T = { .saved_stderr = -1, .capture_fd = -1, .sig_pipe = { -1, -1 } };

/* The light theme: colours readable on light and dark backgrounds alike (no yellow, no white
 * text on the terminal's own background), over the terminal's default background. */
struct pair_def {
	enum role role;
	short fg, bg;
	unsigned extra;
};

static void restore_stderr(void)
{
	if (T.saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(T.saved_stderr, STDERR_FILENO);
	close(T.saved_stderr);
	T.saved_stderr = -1;
}

/* Shows what libraries wrote to stderr while curses was up. */
static void replay_stderr(void)
{
	if (T.capture_fd < 0)
		return;
	if (lseek(T.capture_fd, 0, SEEK_SET) == 0) {
		char buf[4096];
		ssize_t n;
		while ((n = read(T.capture_fd, buf, sizeof buf)) > 0)
			if (write(STDERR_FILENO, buf, (size_t)n) < 0)
				break;
	}
	close(T.capture_fd);
	T.capture_fd = -1;
	if (T.capture_path[0])
		unlink(T.capture_path);
	T.capture_path[0] = '\0';
}

void term_stop(void)
{
	if (T.active) {
		T.active = false;
		endwin();
		if (T.screen) {
			delscreen(T.screen);
			T.screen = NULL;
		}
	}
	restore_stderr();
	replay_stderr();
}

/* Every signal the console handles only wakes the main loop, which does the work (curses is not
 * async-signal-safe; ncurses' own SIGTSTP and SIGWINCH handlers are not used for that reason). */
static void on_stop_signal(int sig)
{
	int saved = errno;
	char b = sig == SIGCONT ? 'c' : sig == SIGTSTP ? 'z' : sig == SIGWINCH ? 'w' : 'q';
	if (T.sig_pipe[1] >= 0 && write(T.sig_pipe[1], &b, 1) < 0) {
		/* the pipe is full: a wake-up is already waiting */
	}
	errno = saved;
}

/* A crash: put the terminal back before the default action (a core dump) happens. endwin() is
 * not async-signal-safe, but a crashed program has nothing left to lose, and a terminal left in
 * raw mode costs the admin their SSH session. */
static void on_fatal_signal(int sig)
{
	if (T.active) {
		T.active = false;
		endwin();
	}
	if (T.saved_stderr >= 0)
		dup2(T.saved_stderr, STDERR_FILENO);
	signal(sig, SIG_DFL);
	raise(sig);
}

int term_signal_fd(void)
{
	return T.sig_pipe[0];
}

int term_signals(void)
{
	int what = 0;
	char buf[64];
	ssize_t n;
	while ((n = read(T.sig_pipe[0], buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < n; i++)
			what |= buf[i] == 'c' ? TERM_SIG_REPAINT : buf[i] == 'z' ? TERM_SIG_SUSPEND
							   : buf[i] == 'w' ? TERM_SIG_RESIZE : TERM_SIG_QUIT;
	return what;
}

void term_suspend(void)
{
	if (!T.active)
		return;
	def_prog_mode();
	endwin();
	/* stop for real: the default action, then our handler again once continued */
	struct sigaction dfl, ours;
	memset(&dfl, 0, sizeof dfl);
	sigemptyset(&dfl.sa_mask);
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGTSTP, &dfl, &ours);
	raise(SIGTSTP);
	sigaction(SIGTSTP, &ours, NULL);
	reset_prog_mode();
	term_resize();
}

void term_resize(void)
{
	if (!T.active)
		return;
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(stdscr, TRUE);
}

static int redirect_stderr(struct fc_error *err)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/fleetcon-stderr.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return fc_error_set(err, "cannot make a file for stderr in %s: %s", dir && *dir ? dir : "/tmp",
				    strerror(errno));
	/* kept under its name until term_stop: a process that dies without returning (a sanitizer's
	 * report, a kill -9) leaves what it wrote where it can be read */
	snprintf(T.capture_path, sizeof T.capture_path, "%s", path);
	fflush(stderr);
	int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved < 0 || dup2(fd, STDERR_FILENO) < 0) {
		int e = errno;
		if (saved >= 0)
			close(saved);
		close(fd);
		unlink(path);
		T.capture_path[0] = '\0';
		return fc_error_set(err, "cannot redirect stderr: %s", strerror(e));
	}
	T.saved_stderr = saved;
	T.capture_fd = fd;
	return 0;
}

static void set_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = 0; /* no SA_RESTART: poll() must wake up */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCONT, &sa, NULL);
	sigaction(SIGTSTP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_handler = on_fatal_signal;
	sa.sa_flags = SA_RESETHAND;
	const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT };
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		sigaction(fatal[i], &sa, NULL);
}

static void theme_init(bool color)
{
	/* Monochrome: attributes only. A fault still reads as one because it is a word. */
	unsigned mono[RL_COUNT] = {
		[RL_NORMAL] = A_NORMAL,
		[RL_HEADER] = A_REVERSE | A_BOLD,
		[RL_TAB] = A_NORMAL,
		[RL_TAB_ACTIVE] = A_REVERSE | A_BOLD,
		[RL_TITLE] = A_BOLD,
		[RL_SELECTED] = A_REVERSE,
		[RL_DIM] = A_DIM,
		[RL_CRIT] = A_BOLD,
		[RL_WARN] = A_UNDERLINE,
		[RL_OK] = A_NORMAL,
		[RL_KEY] = A_BOLD | A_REVERSE,
		[RL_HINT] = A_NORMAL,
		[RL_FLASH_ERR] = A_BOLD | A_REVERSE,
		[RL_FLASH_INFO] = A_BOLD,
		[RL_FIELD] = A_UNDERLINE,
	};
	memcpy(T.attrs, mono, sizeof mono);
	T.color = color;
	if (!color)
		return;
	static const struct pair_def pairs[] = {
		{ RL_HEADER, COLOR_WHITE, COLOR_BLUE, A_BOLD },
		{ RL_TAB_ACTIVE, COLOR_WHITE, COLOR_BLUE, A_BOLD },
		{ RL_TITLE, COLOR_BLUE, -1, A_BOLD },
		{ RL_CRIT, COLOR_RED, -1, A_BOLD },
		{ RL_WARN, COLOR_MAGENTA, -1, A_BOLD },
		{ RL_OK, COLOR_GREEN, -1, 0 },
		{ RL_KEY, COLOR_WHITE, COLOR_BLUE, A_BOLD },
		{ RL_FLASH_ERR, COLOR_WHITE, COLOR_RED, A_BOLD },
		{ RL_FLASH_INFO, COLOR_BLUE, -1, A_BOLD },
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		short n = (short)(i + 1);
		if (n >= COLOR_PAIRS)
			break;
		if (init_pair(n, pairs[i].fg, pairs[i].bg) == OK)
			T.attrs[pairs[i].role] = (unsigned)COLOR_PAIR(n) | pairs[i].extra;
	}
}

unsigned term_attr(const struct console *c, enum role r)
{
	(void)c;
	return r < RL_COUNT ? T.attrs[r] : 0;
}

static bool env_set(const char *name)
{
	const char *v = getenv(name);
	return v && *v;
}

int term_start(struct console *c, const struct term_options *o, struct fc_error *err)
{
	setlocale(LC_ALL, "");
	const char *codeset = nl_langinfo(CODESET);
	c->utf8 = codeset && strcmp(codeset, "UTF-8") == 0 && !o->ascii;
	c->ascii = o->ascii;

	if (pipe2(T.sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return fc_error_set(err, "cannot make a pipe for signals: %s", strerror(errno));
	/* before newterm: curses leaves handlers alone that are already set */
	set_signals();
	if (!T.registered) {
		atexit(term_stop);
		T.registered = true;
	}
	if (!env_set("ESCDELAY"))
		set_escdelay(25);
	if (redirect_stderr(err) < 0)
		return -1;

	const char *term = getenv("TERM");
	T.screen = newterm(NULL, stdout, stdin);
	if (!T.screen) {
		restore_stderr();
		replay_stderr();
		return fc_error_set(err, "cannot start the console on this terminal (TERM=%s); try TERM=xterm or "
				    "TERM=vt100, or use the commands (fleetcon --help)", term && *term ? term : "unset");
	}
	set_term(T.screen);
	T.active = true;
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0); /* fails harmlessly on terminals that cannot hide it */

	bool color = !o->no_color && !env_set("NO_COLOR") && has_colors() && start_color() == OK;
	if (color)
		use_default_colors();
	theme_init(color);
	c->color = color;
	c->mouse = false;
	if (!o->no_mouse) {
		mmask_t want = BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED;
		c->mouse = mousemask(want, NULL) != 0;
		mouseinterval(200);
	}
	getmaxyx(stdscr, c->rows, c->cols);
	return 0;
}
