//! The panic handler: a panic reverts the call with its message.
//!
//! The output becomes `panicked: MESSAGE` (at most 1 KiB, without the
//! source location, which would tie the output to the build machine's
//! paths) and the exit code [`PANIC_CODE`](crate::env::PANIC_CODE). Nothing
//! is allocated, so a panic that comes from running out of memory still
//! reports.

#[cfg(all(target_arch = "wasm32", feature = "panic-handler"))]
#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write;

    let mut text = Truncating {
        bytes: [0; 1024],
        len: 0,
    };
    // A formatting error only means the message was cut short.
    let _ = write!(text, "panicked: {}", info.message());
    crate::env::set_output(&text.bytes[..text.len]);
    crate::env::exit(crate::env::PANIC_CODE)
}

/// A fixed buffer that keeps what fits and drops the rest.
#[cfg(all(target_arch = "wasm32", feature = "panic-handler"))]
struct Truncating {
    bytes: [u8; 1024],
    len: usize,
}

#[cfg(all(target_arch = "wasm32", feature = "panic-handler"))]
impl core::fmt::Write for Truncating {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.bytes.len() - self.len;
        // Cut at a character boundary so the message stays UTF-8.
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        if take < s.len() {
            Err(core::fmt::Error)
        } else {
            Ok(())
        }
    }
}
