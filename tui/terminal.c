/* terminal.c: the terminal's life cycle (terminal.h). One teardown serves normal
 * exit, errors, SIGINT / SIGTERM and fatal signals (htop's way). Fatal signals can
 * only use async-safe calls, so the bytes that restore the terminal are prepared
 * at startup. */
#include "tui/terminal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tui/draw.h"
/* term.h defines terminfo capability macros named like ordinary words. */
#include <term.h>
#undef lines
#undef columns

static struct {
    bool active; /* curses is running */
    bool tty;    /* on a real terminal (else an in-memory screen) */
    SCREEN *screen;
    FILE *out, *in;
    bool have_termios;
    struct termios saved;
    char restore[256];
    size_t restore_len;
} term;

static volatile sig_atomic_t stop_signal;
/* Ctrl-C arrives as SIGINT (cbreak mode keeps the terminal's signal keys): the
 * main loop takes it as a key, so that it cancels a prompt instead of quitting. */
static volatile sig_atomic_t interrupts;
static struct sigaction old_fatal[32];
static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};

static void restore_async(void)
{
    if (!term.tty)
        return;
    if (term.restore_len) {
        ssize_t r = write(STDOUT_FILENO, term.restore, term.restore_len);
        (void)r;
    }
    if (term.have_termios)
        tcsetattr(STDIN_FILENO, TCSANOW, &term.saved);
}

static void on_fatal(int sig)
{
    restore_async();
    /* Hand the signal to whoever had it before (a sanitizer's report) or the
     * default action (a core dump). */
    if (sig < 32)
        sigaction(sig, &old_fatal[sig], NULL);
    else
        signal(sig, SIG_DFL);
    raise(sig);
}

static void on_stop(int sig)
{
    if (sig == SIGINT && !stop_signal && !interrupts) {
        interrupts = 1;
        return;
    }
    /* A Ctrl-C the main loop has not taken yet (it is busy): stop as before. */
    if (stop_signal) {
        /* A second Ctrl-C while the first is being honoured: leave now. The
         * store is safe: SQLite rolls back what was not committed. */
        restore_async();
        _exit(128 + sig);
    }
    stop_signal = sig;
}

static void add_restore(const char *cap)
{
    if (!cap || cap == (char *)-1)
        return;
    size_t n = strlen(cap);
    if (term.restore_len + n < sizeof term.restore) {
        memcpy(term.restore + term.restore_len, cap, n);
        term.restore_len += n;
    }
}

void terminal_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        sigaction(fatal_signals[i], &sa, &old_fatal[fatal_signals[i]]);
}

void terminal_restore(void)
{
    if (!term.active)
        return;
    term.active = false;
    if (term.tty)
        mousemask(0, NULL);
    curs_set(1);
    endwin();
    if (term.screen)
        delscreen(term.screen);
    term.screen = NULL;
    if (term.out)
        fclose(term.out);
    if (term.in)
        fclose(term.in);
    term.out = term.in = NULL;
    if (term.tty && term.have_termios)
        tcsetattr(STDIN_FILENO, TCSANOW, &term.saved);
}

int terminal_start(bool want_tty, err *e)
{
    const char *tname = getenv("TERM");
    if (!tname || !*tname || strcmp(tname, "unknown") == 0)
        tname = "xterm";
    if (want_tty) {
        term.have_termios = tcgetattr(STDIN_FILENO, &term.saved) == 0;
        term.screen = newterm(tname, stdout, stdin);
        if (!term.screen)
            return err_set(e, ST_ERR, "cannot start the terminal '%s' (is TERM right?)", tname);
        term.tty = true;
        add_restore("\033[?1000l\033[?1002l\033[?1006l"); /* mouse reporting off */
        add_restore(tigetstr("sgr0"));
        add_restore(tigetstr("cnorm"));
        add_restore(tigetstr("rmcup"));
        add_restore("\r\n");
    } else {
        term.out = fopen("/dev/null", "w");
        term.in = fopen("/dev/null", "r");
        if (!term.out || !term.in)
            return err_set(e, ST_ERR, "cannot open /dev/null: %s", strerror(errno));
        term.screen = newterm(tname, term.out, term.in);
        if (!term.screen)
            term.screen = newterm("xterm", term.out, term.in);
        if (!term.screen)
            return err_set(e, ST_ERR, "cannot start an in-memory screen");
    }
    set_term(term.screen);
    term.active = true;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    const char *bad_theme; /* said on the message line by tui.c */
    tui_colors_init(theme_from_env(&bad_theme));
    if (term.tty && !getenv("STRATA_NO_MOUSE"))
        mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED | BUTTON4_PRESSED |
                      BUTTON5_PRESSED | REPORT_MOUSE_POSITION,
                  NULL);
    return ST_OK;
}

bool terminal_take_interrupt(void)
{
    if (!interrupts)
        return false;
    interrupts = 0;
    return true;
}

int terminal_stop_signal(void)
{
    return stop_signal;
}
