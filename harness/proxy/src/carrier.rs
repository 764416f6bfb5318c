//! Where the plain copy loop holds bytes between reading and writing. On Linux that is a pipe filled
//! and drained with splice(2), so proxied bytes never enter user space: on a 2-core machine the two
//! copies through user space are a large part of what a proxy costs in bulk throughput. Elsewhere,
//! or if no pipe can be had, it is a user-space buffer.

use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use tokio::io::Interest;
use tokio::net::TcpStream;

/// Capacity of the user-space buffer, and requested capacity of the pipe; the kernel may grant less (`fs.pipe-max-size`), which only means more
/// syscalls.
const CAPACITY: usize = 256 * 1024;

/// Bytes read from one socket and not yet written to the other.
pub(crate) enum Carrier {
    #[cfg(target_os = "linux")]
    Pipe(Pipe),
    Buffer {
        buf: Vec<u8>,
        start: usize,
        end: usize,
    },
}

impl Carrier {
    pub fn new() -> Carrier {
        #[cfg(target_os = "linux")]
        match Pipe::new() {
            Ok(pipe) => return Carrier::Pipe(pipe),
            Err(err) => tracing::debug!(%err, "no pipe for splice; copying through user space"),
        }
        Carrier::Buffer {
            buf: vec![0; CAPACITY],
            start: 0,
            end: 0,
        }
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        match self {
            #[cfg(target_os = "linux")]
            Carrier::Pipe(pipe) => pipe.len,
            Carrier::Buffer { start, end, .. } => end - start,
        }
    }

    /// Reads what `src` has into the empty carrier; 0 means end of stream. Cancel-safe.
    pub async fn fill(&mut self, src: &TcpStream) -> io::Result<usize> {
        match self {
            #[cfg(target_os = "linux")]
            Carrier::Pipe(pipe) => pipe.fill(src).await,
            Carrier::Buffer { buf, start, end } => {
                let n = loop {
                    src.readable().await?;
                    match src.try_read(buf) {
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                        read => break read?,
                    }
                };
                (*start, *end) = (0, n);
                Ok(n)
            }
        }
    }

    /// Writes some of the held bytes to `dst`; returns how many. Cancel-safe.
    pub async fn drain(&mut self, dst: &TcpStream) -> io::Result<usize> {
        let n = match self {
            #[cfg(target_os = "linux")]
            Carrier::Pipe(pipe) => pipe.drain(dst).await?,
            Carrier::Buffer { buf, start, end } => {
                let n = loop {
                    dst.writable().await?;
                    match dst.try_write(&buf[*start..*end]) {
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                        written => break written?,
                    }
                };
                *start += n;
                n
            }
        };
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        Ok(n)
    }

    /// Empties the carrier into a `Vec` (a toxic started while bytes were in it).
    pub fn take(&mut self) -> io::Result<Vec<u8>> {
        match self {
            #[cfg(target_os = "linux")]
            Carrier::Pipe(pipe) => pipe.take(),
            Carrier::Buffer { buf, start, end } => {
                let bytes = buf[*start..*end].to_vec();
                *start = *end;
                Ok(bytes)
            }
        }
    }
}

/// A pipe holding bytes on their way from one socket to the other.
#[cfg(target_os = "linux")]
pub(crate) struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    /// Bytes in the pipe.
    len: usize,
}

#[cfg(target_os = "linux")]
impl Pipe {
    fn new() -> io::Result<Pipe> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: F_SETPIPE_SZ on a pipe we own; failing leaves the default size, which is fine.
        unsafe {
            libc::fcntl(
                write.as_raw_fd(),
                libc::F_SETPIPE_SZ,
                CAPACITY as libc::c_int,
            )
        };
        Ok(Pipe {
            read,
            write,
            len: 0,
        })
    }

    /// Moves what `src` has (up to the pipe's capacity) into the empty pipe. Cancel-safe: the splice
    /// and the bookkeeping happen in one poll.
    async fn fill(&mut self, src: &TcpStream) -> io::Result<usize> {
        debug_assert_eq!(
            self.len, 0,
            "fill only an empty pipe, so EAGAIN always means the socket"
        );
        let n = src
            .async_io(Interest::READABLE, || {
                splice(src.as_raw_fd(), self.write.as_raw_fd(), CAPACITY)
            })
            .await?;
        self.len += n;
        Ok(n)
    }

    /// Moves bytes from the pipe to `dst`; returns how many.
    async fn drain(&mut self, dst: &TcpStream) -> io::Result<usize> {
        let n = dst
            .async_io(Interest::WRITABLE, || {
                splice(self.read.as_raw_fd(), dst.as_raw_fd(), self.len)
            })
            .await?;
        self.len -= n;
        Ok(n)
    }

    fn take(&mut self) -> io::Result<Vec<u8>> {
        let mut bytes = vec![0u8; self.len];
        let mut done = 0;
        while done < bytes.len() {
            let rest = &mut bytes[done..];
            // SAFETY: reads into the unfilled tail of `bytes`, within its length.
            let n =
                unsafe { libc::read(self.read.as_raw_fd(), rest.as_mut_ptr().cast(), rest.len()) };
            if n <= 0 {
                return Err(io::Error::last_os_error());
            }
            done += n as usize;
        }
        self.len = 0;
        Ok(bytes)
    }
}

#[cfg(target_os = "linux")]
fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    let flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK;
    // SAFETY: plain descriptors that stay open for the call; sockets and pipes take no offsets.
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            flags,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}
