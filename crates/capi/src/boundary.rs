//! The boundary every entry point goes through: arguments read from C,
//! errors handed back as [`WardError`]s, and panics caught before they
//! could unwind into C.

use std::{
    ffi::{CStr, CString, c_char},
    panic::{AssertUnwindSafe, catch_unwind},
    ptr,
};

/// What a function returns: `Ok` (0), or why it failed.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WardStatus {
    /// It did what was asked.
    Ok = 0,
    /// An argument is not usable: a NULL pointer where one is required,
    /// text that is not UTF-8, an option out of range.
    InvalidArgument = 1,
    /// The module was refused: by the policy (its [`ward_error_kind`] says
    /// how: `invalid_wasm`, `limit_exceeded`, `unknown_import`, ...), or
    /// its schema does not read.
    Rejected = 2,
    /// JSON arguments that do not fit the method's signature, or an output
    /// or event that does not fit its declared type.
    BadArguments = 3,
    /// The call is not in a state for this: a reply to a call that is not
    /// suspended, or of another kind than its request.
    State = 4,
    /// The call was aborted by a fault of the host's (a misused reply, an
    /// engine failure): it has no outcome.
    Fault = 5,
    /// A panic inside Ward, caught at the boundary: a bug in Ward.
    Internal = 6,
    /// The engine could not be made (its backend, its cache directory).
    Engine = 7,
}

/// Why a function failed: a status, a kind (for rejections: Ward's error
/// kind, such as `invalid_wasm`) and a message for people. Freed with
/// [`ward_error_free`].
#[derive(Debug)]
pub struct WardError {
    code: WardStatus,
    kind: CString,
    message: CString,
}

impl WardError {
    pub(crate) fn new(code: WardStatus, kind: &str, message: impl Into<String>) -> WardError {
        WardError {
            code,
            kind: text(kind),
            message: text(&message.into()),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> WardError {
        WardError::new(WardStatus::InvalidArgument, "invalid_argument", message)
    }

    pub(crate) fn code(&self) -> WardStatus {
        self.code
    }
}

/// `text` as a C string (an interior NUL, which Ward's messages never
/// hold, becomes a space).
pub(crate) fn text(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

/// Runs `body` for an entry point returning a status: its error (or a
/// panic, as [`WardStatus::Internal`]) goes to `*error` when `error` is
/// not NULL.
pub(crate) fn status(
    error: *mut *mut WardError,
    body: impl FnOnce() -> Result<(), WardError>,
) -> WardStatus {
    match guarded(body) {
        Ok(()) => WardStatus::Ok,
        Err(failure) => {
            let code = failure.code();
            give(error, failure);
            code
        }
    }
}

/// Runs `body` for an entry point returning an object: NULL on failure,
/// with the error in `*error`.
pub(crate) fn object<T>(
    error: *mut *mut WardError,
    body: impl FnOnce() -> Result<T, WardError>,
) -> *mut T {
    match guarded(body) {
        Ok(value) => Box::into_raw(Box::new(value)),
        Err(failure) => {
            give(error, failure);
            ptr::null_mut()
        }
    }
}

/// `body`, with a panic turned into an internal error.
pub(crate) fn guarded<T>(body: impl FnOnce() -> Result<T, WardError>) -> Result<T, WardError> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            Err(WardError::new(
                WardStatus::Internal,
                "internal",
                format!("Ward panicked (a bug; please report it): {what}"),
            ))
        }
    }
}

fn give(error: *mut *mut WardError, failure: WardError) {
    if !error.is_null() {
        // SAFETY: the caller passes NULL or a pointer to a `WardError *`
        // it owns (the header says so); writing a fresh box there hands
        // it over.
        unsafe { *error = Box::into_raw(Box::new(failure)) };
    }
}

/// A reference to the object behind `pointer`, or an invalid-argument
/// error naming `what`.
pub(crate) fn borrow<'a, T>(pointer: *const T, what: &str) -> Result<&'a T, WardError> {
    // SAFETY: the caller passes NULL or a pointer this API returned and
    // has not freed (the header says so); such a pointer is valid and
    // aligned, and nothing frees it while the call borrows it.
    unsafe { pointer.as_ref() }.ok_or_else(|| WardError::invalid(format!("{what} is NULL")))
}

/// A mutable reference to the object behind `pointer`, as [`borrow`].
pub(crate) fn borrow_mut<'a, T>(pointer: *mut T, what: &str) -> Result<&'a mut T, WardError> {
    // SAFETY: as `borrow`; the header says a call is used by one thread
    // at a time, so this is the only reference.
    unsafe { pointer.as_mut() }.ok_or_else(|| WardError::invalid(format!("{what} is NULL")))
}

/// The `len` bytes at `data` (NULL is empty only with `len` 0).
pub(crate) fn bytes<'a>(data: *const u8, len: usize, what: &str) -> Result<&'a [u8], WardError> {
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(WardError::invalid(format!(
            "{what} is NULL with a length of {len}"
        )));
    }
    if len > isize::MAX as usize {
        return Err(WardError::invalid(format!("{what}: a length of {len}")));
    }
    // SAFETY: the caller promises `len` readable bytes at `data`, which
    // is not NULL and whose length fits an allocation; they are not
    // written while this call reads them.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// The NUL-terminated UTF-8 text at `data`; `None` for NULL.
pub(crate) fn optional_str<'a>(
    data: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, WardError> {
    if data.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller passes NULL or a NUL-terminated string it keeps
    // alive and unchanged during the call.
    let text = unsafe { CStr::from_ptr(data) };
    text.to_str()
        .map(Some)
        .map_err(|_| WardError::invalid(format!("{what} is not UTF-8")))
}

/// The NUL-terminated UTF-8 text at `data`, which must not be NULL.
pub(crate) fn required_str<'a>(data: *const c_char, what: &str) -> Result<&'a str, WardError> {
    optional_str(data, what)?.ok_or_else(|| WardError::invalid(format!("{what} is NULL")))
}

/// Takes back an object this API handed out, and drops it.
pub(crate) fn free<T>(pointer: *mut T) {
    if pointer.is_null() {
        return;
    }
    // A panic in a destructor stops here, as everywhere.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the pointer came from `Box::into_raw` in this API (the
        // header says only such pointers are freed, once).
        drop(unsafe { Box::from_raw(pointer) });
    }));
}

/// Bytes Ward allocated for the caller: freed with [`ward_bytes_free`].
#[repr(C)]
#[derive(Debug)]
pub struct WardBytes {
    /// The first byte (NULL when `len` is 0).
    pub data: *mut u8,
    /// How many.
    pub len: usize,
}

impl WardBytes {
    pub(crate) fn of(bytes: Vec<u8>) -> WardBytes {
        if bytes.is_empty() {
            return WardBytes {
                data: ptr::null_mut(),
                len: 0,
            };
        }
        let boxed = bytes.into_boxed_slice();
        let len = boxed.len();
        WardBytes {
            data: Box::into_raw(boxed).cast::<u8>(),
            len,
        }
    }
}

/// A string for the caller: freed with [`ward_string_free`].
pub(crate) fn give_string(out: *mut *mut c_char, value: &str) -> Result<(), WardError> {
    if out.is_null() {
        return Err(WardError::invalid("the output pointer is NULL"));
    }
    // SAFETY: `out` is not NULL and points to a `char *` the caller
    // owns (the header says so).
    unsafe { *out = text(value).into_raw() };
    Ok(())
}

/// Writes `value` to `*out`, which must not be NULL.
pub(crate) fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), WardError> {
    if out.is_null() {
        return Err(WardError::invalid(format!("{what} is NULL")));
    }
    // SAFETY: `out` is not NULL and points to a `T` the caller owns and
    // lets this call write (the header says so).
    unsafe { out.write(value) };
    Ok(())
}

/// The error's status.
#[unsafe(no_mangle)]
pub extern "C" fn ward_error_code(error: *const WardError) -> WardStatus {
    guarded(|| borrow(error, "error").map(WardError::code)).unwrap_or(WardStatus::InvalidArgument)
}

/// The error's kind (Ward's error kind for a rejection, such as
/// `invalid_wasm`; else a word for its status); valid until the error is
/// freed. NULL for a NULL error.
#[unsafe(no_mangle)]
pub extern "C" fn ward_error_kind(error: *const WardError) -> *const c_char {
    guarded(|| borrow(error, "error").map(|e| e.kind.as_ptr())).unwrap_or(ptr::null())
}

/// The error's message, for people; valid until the error is freed. NULL
/// for a NULL error.
#[unsafe(no_mangle)]
pub extern "C" fn ward_error_message(error: *const WardError) -> *const c_char {
    guarded(|| borrow(error, "error").map(|e| e.message.as_ptr())).unwrap_or(ptr::null())
}

/// Frees an error (NULL: nothing).
#[unsafe(no_mangle)]
pub extern "C" fn ward_error_free(error: *mut WardError) {
    free(error);
}

/// Frees bytes Ward returned (a NULL `data`: nothing).
#[unsafe(no_mangle)]
pub extern "C" fn ward_bytes_free(bytes: WardBytes) {
    if bytes.data.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let slice = ptr::slice_from_raw_parts_mut(bytes.data, bytes.len);
        // SAFETY: `data` and `len` are those of a boxed slice this API
        // made (`WardBytes::of`) and the header says it is freed once.
        drop(unsafe { Box::from_raw(slice) });
    }));
}

/// Frees a string Ward returned (NULL: nothing).
#[unsafe(no_mangle)]
pub extern "C" fn ward_string_free(text: *mut c_char) {
    if text.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the string came from `CString::into_raw` in this API
        // (`give_string`), and the header says it is freed once.
        drop(unsafe { CString::from_raw(text) });
    }));
}
