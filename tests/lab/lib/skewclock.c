// SPDX-License-Identifier: GPL-2.0-or-later
// LD_PRELOAD shim for lab-db's skewed PostgreSQL standbys: the wall clock
// (gettimeofday, time, clock_gettime on the CLOCK_REALTIME clocks) reads
// $SITELINK_CLOCK_SKEW seconds (signed) off; monotonic clocks and sleeps are
// untouched. Built by lab-db (up pg-skew) with the system cc.
//
// Why not libfaketime: its select()/poll()/epoll_wait() wrappers set its
// "do not fake" flag around the real call. PostgreSQL 15's postmaster waits
// in select() and starts the WAL receiver (and restarts crashed children)
// from its signal handlers, which therefore run, and fork, with that flag
// set: those children keep the real clock for life, while the startup
// process and the backends (forked outside the handlers) are skewed. A
// standby whose WAL receiver does not share the skew does not test skew.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long skew_seconds(void)
{
  static int read = 0;
  static long skew = 0;
  if (!read) {
    const char* s = getenv("SITELINK_CLOCK_SKEW");
    skew = s != NULL ? strtol(s, NULL, 10) : 0;
    read = 1;
  }
  return skew;
}

static int is_realtime(clockid_t id)
{
  return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI;
}

int clock_gettime(clockid_t id, struct timespec* tp)
{
  static int (*real)(clockid_t, struct timespec*) = NULL;
  if (real == NULL) real = (int (*)(clockid_t, struct timespec*))dlsym(RTLD_NEXT, "clock_gettime");
  int rc = real(id, tp);
  if (rc == 0 && is_realtime(id)) tp->tv_sec += skew_seconds();
  return rc;
}

int gettimeofday(struct timeval* tv, void* tz)
{
  static int (*real)(struct timeval*, void*) = NULL;
  if (real == NULL) real = (int (*)(struct timeval*, void*))dlsym(RTLD_NEXT, "gettimeofday");
  int rc = real(tv, tz);
  if (rc == 0) tv->tv_sec += skew_seconds();
  return rc;
}

time_t time(time_t* t)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (t != NULL) *t = ts.tv_sec;
  return ts.tv_sec;
}
