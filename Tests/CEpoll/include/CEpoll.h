// epoll for the WebSocket benchmark's clients. Swift's Glibc module leaves sys/epoll.h out, and
// `struct epoll_event` is packed on x86-64 (Swift would lay it out differently), so the calls are
// wrapped here with plain ints.
#ifndef CEPOLL_H
#define CEPOLL_H

int cepoll_create(void);
/// Watches `fd` for input (level-triggered); 0 on success.
int cepoll_add(int epoll, int fd);
/// Waits up to `timeout` ms; writes the ready descriptors to `fds` (at most `max`), returns how many.
int cepoll_wait(int epoll, int *fds, int max, int timeout);

#endif
