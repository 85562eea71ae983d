//! WASI preview 1 on the call context: the table's cost, then
//! `ward-wasi`'s implementation with the call's input as stdin, its output
//! as stdout and its debug log as stderr.

use ward_abi::WasiFn;
use ward_wasi::{Io, Stop, Wasi, WasiConfig};

use super::{CallContext, GuestMemory, HostStop, aborted, host_error};
use crate::Value;

/// The context's side of a WASI call.
struct Streams<'a>(&'a mut CallContext);

impl Io for Streams<'_> {
    type Stop = HostStop;

    fn charge_bytes(&mut self, bytes: u64) -> Result<(), HostStop> {
        let rate = u64::from(self.0.schedule.host_per_byte);
        self.0.charge(rate.saturating_mul(bytes))
    }

    fn stdin(&self) -> &[u8] {
        &self.0.input
    }

    fn stdout(&mut self, data: &[u8]) {
        if self.0.wasi_stdout_logged {
            self.0.log_wasi_lines(0, data);
        } else {
            self.0.output.extend_from_slice(data);
        }
    }

    fn stderr(&mut self, data: &[u8]) {
        if self.0.wasi_stdout_logged {
            self.0.log_wasi_lines(1, data);
        } else if let Some(log) = &mut self.0.debug_log {
            log.push(data);
        }
    }
}

impl CallContext {
    /// Runs WASI function `f` with `args` (already of its signature's
    /// types) on the guest's `memory`, after charging its documented cost
    /// (the table's fixed part and lengths; bytes `moved` are charged by
    /// the implementation as it goes). Returns the errno; `proc_exit`
    /// ends the call like `ward.exit`.
    ///
    /// # Errors
    ///
    /// A [`HostStop`]: `proc_exit`, out of gas, or a node fault's abort.
    pub fn call_wasi(
        &mut self,
        f: WasiFn,
        args: &[Value],
        memory: &mut GuestMemory<'_>,
    ) -> Result<Option<Value>, HostStop> {
        if self.is_aborted() {
            return Err(aborted());
        }
        // The widest function (`path_open`) takes 9 arguments.
        let mut raw = [0u64; 9];
        for (slot, v) in raw.iter_mut().zip(args) {
            *slot = match v {
                Value::I32(v) => u64::from(*v as u32),
                Value::I64(v) => *v as u64,
                _ => 0,
            };
        }
        let bits = &raw[..args.len().min(raw.len())];
        self.pay(f.cost(), |i| bits.get(i).map_or(0, |&b| b & 0xffff_ffff))?;
        let mut wasi = match self.wasi.take() {
            Some(wasi) => wasi,
            None => Box::new(
                Wasi::new(&WasiConfig::default())
                    .map_err(|e| host_error(format!("WASI: {}", e.name())))?,
            ),
        };
        let result = wasi.call(f, bits, memory.all_mut(), &mut Streams(self));
        self.wasi = Some(wasi);
        match result {
            Ok(errno) => Ok(f.results().first().map(|_| Value::I32(errno))),
            Err(Stop::Exit(code)) => Err(HostStop::Exit(code)),
            Err(Stop::BadExit(code)) => Err(host_error(format!(
                "proc_exit({code}): exit codes above {} are reserved",
                ward_wasi::MAX_EXIT_CODE
            ))),
            Err(Stop::Host(stop)) => Err(stop),
        }
    }
}
