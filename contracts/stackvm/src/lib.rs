//! A system runtime: an interpreter for a small stack-machine bytecode.
//!
//! This shows how a non-Wasm language is hosted on Ward. The embedder
//! registers this module as a trusted, *self-metered* system runtime
//! (`SystemRuntimes::register(wasm, Metering::SelfMetered)`): it is not
//! instrumented, its instance is reused across calls, and it charges gas
//! itself through `charge_gas`, [`GAS_PER_OP`] per instruction executed.
//! It never allocates, so nothing grows from one call to the next.
//!
//! On a chain, a contract deployed for this runtime (`ward deploy
//! --runtime stackvm PROGRAM`) has the program as its code, and a call's
//! input is its arguments: the executor hands the runtime both in the
//! system runtimes' envelope (`docs/runtimes.md`).
//!
//! Input: `u32` program length `P` (little-endian), `P` bytes of program,
//! then zero or more `i64` arguments (little-endian), which form the
//! initial stack, bottom first. Output: the top of the stack as an `i64`
//! when the program halts (nothing when the stack is empty). Arithmetic
//! wraps. A fault (stack underflow or overflow, bad opcode, division by
//! zero, jump or immediate out of the program) reverts with code 2 and a
//! message naming the program counter.
//!
//! | opcode | name | effect |
//! |---|---|---|
//! | `00` | `halt` | stop; output the top |
//! | `01 i64` | `push` | push the immediate |
//! | `02` | `pop` | drop the top |
//! | `03` | `dup` | `a -> a a` |
//! | `04` | `swap` | `a b -> b a` |
//! | `05` | `over` | `a b -> a b a` |
//! | `10`..`14` | `add sub mul div rem` | `a b -> a∘b` (signed; `div`/`rem` by 0 fault) |
//! | `15` / `16` | `lt` / `eq` | `a b -> (a<b)` / `(a==b)` as 0 or 1 |
//! | `17` | `not` | `a -> (a==0)` |
//! | `20 u16` | `jmp` | jump to the absolute offset |
//! | `21 u16` / `22 u16` | `jz` / `jnz` | pop; jump if zero / nonzero |
//!
//! Gas is charged for the instructions run so far at every jump and at
//! `halt`, so a loop pays on every iteration and straight-line code (at
//! most the program's length) pays at its end.

#![cfg_attr(target_arch = "wasm32", no_std)]

use ward_sdk::env;

/// Gas per instruction executed.
pub const GAS_PER_OP: u64 = 25;
/// The longest program accepted, in bytes.
pub const MAX_PROGRAM: usize = 4096;
/// The deepest stack.
pub const MAX_STACK: usize = 256;

/// Why a program stopped early.
enum Fault {
    Underflow,
    Overflow,
    BadOpcode(u8),
    DivByZero,
    OutOfProgram,
}

struct Machine<'p> {
    program: &'p [u8],
    stack: [i64; MAX_STACK],
    depth: usize,
    pc: usize,
    pending: u64,
}

impl Machine<'_> {
    fn push(&mut self, value: i64) -> Result<(), Fault> {
        let slot = self.stack.get_mut(self.depth).ok_or(Fault::Overflow)?;
        *slot = value;
        self.depth += 1;
        Ok(())
    }

    fn pop(&mut self) -> Result<i64, Fault> {
        self.depth = self.depth.checked_sub(1).ok_or(Fault::Underflow)?;
        Ok(self.stack[self.depth])
    }

    fn peek(&self, from_top: usize) -> Result<i64, Fault> {
        let index = self
            .depth
            .checked_sub(from_top + 1)
            .ok_or(Fault::Underflow)?;
        Ok(self.stack[index])
    }

    fn immediate<const N: usize>(&mut self) -> Result<[u8; N], Fault> {
        let bytes = self
            .program
            .get(self.pc..self.pc + N)
            .ok_or(Fault::OutOfProgram)?;
        self.pc += N;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn jump(&mut self, target: u16) -> Result<(), Fault> {
        self.flush_gas();
        let target = usize::from(target);
        if target >= self.program.len() {
            return Err(Fault::OutOfProgram);
        }
        self.pc = target;
        Ok(())
    }

    fn flush_gas(&mut self) {
        env::charge_gas(self.pending * GAS_PER_OP);
        self.pending = 0;
    }

    fn binary(&mut self, op: impl FnOnce(i64, i64) -> Result<i64, Fault>) -> Result<(), Fault> {
        let b = self.pop()?;
        let a = self.pop()?;
        self.push(op(a, b)?)
    }

    /// Runs until `halt`; returns the top of the stack, if any.
    fn run(&mut self) -> Result<Option<i64>, Fault> {
        loop {
            let op = *self.program.get(self.pc).ok_or(Fault::OutOfProgram)?;
            self.pc += 1;
            self.pending += 1;
            match op {
                0x00 => {
                    self.flush_gas();
                    return Ok(self.peek(0).ok());
                }
                0x01 => {
                    let value = i64::from_le_bytes(self.immediate()?);
                    self.push(value)?;
                }
                0x02 => {
                    self.pop()?;
                }
                0x03 => self.push(self.peek(0)?)?,
                0x04 => {
                    let b = self.pop()?;
                    let a = self.pop()?;
                    self.push(b)?;
                    self.push(a)?;
                }
                0x05 => self.push(self.peek(1)?)?,
                0x10 => self.binary(|a, b| Ok(a.wrapping_add(b)))?,
                0x11 => self.binary(|a, b| Ok(a.wrapping_sub(b)))?,
                0x12 => self.binary(|a, b| Ok(a.wrapping_mul(b)))?,
                0x13 => self.binary(|a, b| match b {
                    0 => Err(Fault::DivByZero),
                    _ => Ok(a.wrapping_div(b)),
                })?,
                0x14 => self.binary(|a, b| match b {
                    0 => Err(Fault::DivByZero),
                    _ => Ok(a.wrapping_rem(b)),
                })?,
                0x15 => self.binary(|a, b| Ok(i64::from(a < b)))?,
                0x16 => self.binary(|a, b| Ok(i64::from(a == b)))?,
                0x17 => {
                    let a = self.pop()?;
                    self.push(i64::from(a == 0))?;
                }
                0x20 => {
                    let target = u16::from_le_bytes(self.immediate()?);
                    self.jump(target)?;
                }
                0x21 | 0x22 => {
                    let target = u16::from_le_bytes(self.immediate()?);
                    let value = self.pop()?;
                    if (value == 0) == (op == 0x21) {
                        self.jump(target)?;
                    }
                }
                other => return Err(Fault::BadOpcode(other)),
            }
        }
    }
}

/// Writes a fault message into `buf` without allocating; returns its length.
fn describe(fault: &Fault, pc: usize, buf: &mut [u8; 96]) -> usize {
    use core::fmt::Write;

    struct Cursor<'b>(&'b mut [u8], usize);
    impl Write for Cursor<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = (self.1 + s.len()).min(self.0.len());
            self.0[self.1..end].copy_from_slice(&s.as_bytes()[..end - self.1]);
            self.1 = end;
            Ok(())
        }
    }
    let mut cursor = Cursor(buf, 0);
    let _ = match fault {
        Fault::Underflow => write!(cursor, "stack underflow at pc {pc}"),
        Fault::Overflow => write!(cursor, "stack overflow at pc {pc}"),
        Fault::BadOpcode(op) => write!(cursor, "bad opcode 0x{op:02x} at pc {pc}"),
        Fault::DivByZero => write!(cursor, "division by zero at pc {pc}"),
        Fault::OutOfProgram => write!(cursor, "ran out of the program at pc {pc}"),
    };
    cursor.1
}

/// The exit code of a fault or a malformed input (a revert).
const FAULT: i32 = 2;

/// Reverts by returning: `message` is the output, [`FAULT`] the code.
fn refuse(message: &str) -> i32 {
    env::set_output(message.as_bytes());
    FAULT
}

/// The entry point: runs the program in the input; 0, or [`FAULT`] with a
/// message as the output.
///
/// It reverts by *returning* its code rather than calling `env::exit`: a
/// system runtime's instance is reused only after a call that returned
/// (`exit` unwinds frames whose epilogues never run, so the host rebuilds
/// the instance after it).
#[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
pub extern "C" fn main() -> i32 {
    const HEADER: usize = 4;
    let input_len = env::input_len();
    let mut header = [0u8; HEADER];
    if input_len < HEADER {
        return refuse("input is shorter than the program length");
    }
    env::read_input(0, &mut header);
    let program_len = u32::from_le_bytes(header) as usize;
    if program_len > MAX_PROGRAM || HEADER + program_len > input_len {
        return refuse("program is too long or truncated");
    }
    let args_len = input_len - HEADER - program_len;
    if args_len % 8 != 0 || args_len / 8 > MAX_STACK {
        return refuse("arguments must be at most 256 i64 values");
    }
    let mut code = [0u8; MAX_PROGRAM];
    env::read_input(HEADER, &mut code[..program_len]);
    let mut machine = Machine {
        program: &code[..program_len],
        stack: [0; MAX_STACK],
        depth: 0,
        pc: 0,
        pending: 0,
    };
    let mut arg = [0u8; 8];
    for i in 0..args_len / 8 {
        env::read_input(HEADER + program_len + 8 * i, &mut arg);
        machine.stack[i] = i64::from_le_bytes(arg);
    }
    machine.depth = args_len / 8;
    match machine.run() {
        Ok(Some(top)) => {
            env::set_output(&top.to_le_bytes());
            0
        }
        Ok(None) => 0,
        Err(fault) => {
            machine.flush_gas();
            let mut message = [0u8; 96];
            let len = describe(&fault, machine.pc.saturating_sub(1), &mut message);
            env::set_output(&message[..len]);
            FAULT
        }
    }
}
