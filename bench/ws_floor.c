// The machine's floor for the WebSocket fan-out benchmark: what the kernel alone costs to hand
// one small message to each of N loopback TCP connections. No WebSocket, no JSON, no runtime:
// two writer threads (as Headway has two event loops on two cores) each write(2) a MSG-byte
// message to half of the sockets; one reader thread in another process (as the benchmark's
// clients) reads them with epoll. Prints, per round, the time until the last socket has its
// message, and the CPU time of each side. Usage: ws_floor N MSG ROUNDS
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu(int who) {
    struct rusage r;
    getrusage(who, &r);
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

static int *sockets, count, size;
static char *message;

static void *writer(void *half) {
    long h = (long)half;
    for (int i = (int)(h * count / 2); i < (int)((h + 1) * count / 2); i++)
        if (write(sockets[i], message, size) != size) perror("write");
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: ws_floor N MSG ROUNDS\n");
        return 2;
    }
    count = atoi(argv[1]), size = atoi(argv[2]);
    int rounds = atoi(argv[3]);
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (bind(listener, (void *)&address, sizeof address) || listen(listener, 4096) || getsockname(listener, (void *)&address, &length)) {
        perror("listen");
        return 1;
    }
    int report[2];
    if (pipe(report)) return 1;
    pid_t client = fork();
    if (client == 0) {
        int epoll = epoll_create1(0);
        for (int i = 0; i < count; i++) {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(s, (void *)&address, sizeof address)) {
                perror("connect");
                _exit(1);
            }
            fcntl(s, F_SETFL, O_NONBLOCK);
            struct epoll_event event = {.events = EPOLLIN, .data.fd = s};
            epoll_ctl(epoll, EPOLL_CTL_ADD, s, &event);
        }
        char ready = 'r', buffer[65536];
        if (write(report[1], &ready, 1) != 1) _exit(1);
        struct epoll_event events[512];
        for (int r = 0; r < rounds; r++) {
            long received = 0;
            double start = cpu(RUSAGE_SELF);
            while (received < (long)count * size) {
                int n = epoll_wait(epoll, events, 512, -1);
                for (int j = 0; j < n; j++) {
                    ssize_t got = read(events[j].data.fd, buffer, sizeof buffer);
                    if (got > 0) received += got;
                }
            }
            double figures[2] = {now(), cpu(RUSAGE_SELF) - start};
            if (write(report[1], figures, sizeof figures) != sizeof figures) _exit(1);
        }
        _exit(0);
    }
    sockets = malloc(count * sizeof(int));
    for (int i = 0; i < count; i++) {
        sockets[i] = accept(listener, 0, 0);
        setsockopt(sockets[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    char ready;
    if (read(report[0], &ready, 1) != 1) return 1;
    message = malloc(size);
    memset(message, 'x', size);
    for (int r = 0; r < rounds; r++) {
        usleep(300000);
        double start = now(), startCPU = cpu(RUSAGE_SELF);
        pthread_t threads[2];
        for (long h = 0; h < 2; h++) pthread_create(&threads[h], 0, writer, (void *)h);
        for (int h = 0; h < 2; h++) pthread_join(threads[h], 0);
        double writersCPU = cpu(RUSAGE_SELF) - startCPU, figures[2];
        if (read(report[0], figures, sizeof figures) != sizeof figures) return 1;
        printf("%.1f %.1f %.1f\n", (figures[0] - start) * 1e3, writersCPU * 1e3, figures[1] * 1e3);
        fflush(stdout);
    }
    waitpid(client, 0, 0);
    return 0;
}
