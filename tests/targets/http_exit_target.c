/* Copyright 2026 The memmon Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * For tests/http_test.sh: a program under MEMMON_HTTP that registers an
 * exit handler after the endpoint started and before any request was
 * parsed, then asks for /metrics ("during: STATUS"). At exit its handler
 * asks again ("at exit: STATUS", or "at exit: refused"). The endpoint must
 * be stopped by then: the request's parsing made cpp-httplib register the
 * destructor of its table of methods after this handler, so exit has run
 * that destructor already, and a request served now would read freed
 * memory.
 *
 *   http_exit_target PORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;

static int Connect(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (s >= 0 && connect(s, (struct sockaddr*)&a, sizeof(a)) == 0) return s;
  if (s >= 0) close(s);
  return -1;
}

/* The status of GET `path`, or -1 when nothing listens. */
static int Get(const char* path) {
  int s = Connect();
  if (s < 0) return -1;
  char buf[256];
  int n =
      snprintf(buf, sizeof(buf),
               "GET %s HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n", path);
  if (send(s, buf, (size_t)n, 0) != n) {
    close(s);
    return 0;
  }
  ssize_t got = recv(s, buf, sizeof(buf) - 1, MSG_WAITALL);
  close(s);
  if (got < 12) return 0;
  buf[got] = '\0';
  return atoi(buf + 9); /* "HTTP/1.1 200" */
}

static void AtExit(void) {
  int status = Get("/metrics");
  if (status < 0) {
    printf("at exit: refused\n");
  } else {
    printf("at exit: %d\n", status);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: http_exit_target PORT\n");
    return 2;
  }
  port = atoi(argv[1]);
  /* Until the endpoint listens: a connection, no request. */
  int ready = 0;
  for (int i = 0; i < 300 && !ready; ++i) {
    int s = Connect();
    if (s >= 0) {
      close(s);
      ready = 1;
    } else {
      struct timespec tenth = {0, 100 * 1000 * 1000};
      nanosleep(&tenth, NULL);
    }
  }
  if (!ready) {
    fprintf(stderr, "http_exit_target: nothing listens on %d\n", port);
    return 1;
  }
  atexit(AtExit);
  printf("during: %d\n", Get("/metrics"));
  fflush(stdout);
  return 0;
}
