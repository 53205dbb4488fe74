#include "CEpoll.h"
#include <sys/epoll.h>

int cepoll_create(void) { return epoll_create1(0); }

int cepoll_add(int epoll, int fd) {
    struct epoll_event event = {.events = EPOLLIN, .data = {.fd = fd}};
    return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
}

int cepoll_wait(int epoll, int *fds, int max, int timeout) {
    struct epoll_event events[512];
    if (max > 512) max = 512;
    int ready = epoll_wait(epoll, events, max, timeout);
    for (int i = 0; i < ready; i++) fds[i] = events[i].data.fd;
    return ready;
}
