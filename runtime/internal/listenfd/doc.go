// Package listenfd holds a listening socket on behalf of other processes
// without watching it.
//
// A process that only passes its socket on (prefork's master to its workers,
// runserver's reloader to the server it rebuilds) must not keep it as a
// net.Listener, nor as the *os.File of a non-blocking socket: Go registers
// both with its poller, and the kernel then wakes the process for every
// connection that arrives, although another process accepts it. Through
// nginx under load that was 2,400 wake-ups a second, 5 to 7% of the CPU of
// the processes serving. Dup takes a bare descriptor, which nothing polls;
// File makes the *os.File that exec.Cmd.ExtraFiles needs only while a child
// starts.
package listenfd
