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

/// An entry point's status for what its body gave ([`guarded`]): its
/// error goes to `*error` when `error` is not NULL.
///
/// # Safety
///
/// `error` is NULL or points to a `WardError *` the caller lets this
/// write.
pub(crate) unsafe fn status(
    error: *mut *mut WardError,
    result: Result<(), WardError>,
) -> WardStatus {
    match result {
        Ok(()) => WardStatus::Ok,
        Err(failure) => {
            let code = failure.code();
            // SAFETY: as this function's contract says.
            unsafe { give(error, failure) };
            code
        }
    }
}

/// The status of an entry point that hands back no error.
pub(crate) fn report(result: Result<(), WardError>) -> WardStatus {
    result
        .err()
        .map_or(WardStatus::Ok, |failure| failure.code())
}

/// An entry point's object for what its body gave ([`guarded`]): NULL on
/// failure, with the error in `*error`.
///
/// # Safety
///
/// As [`status`].
pub(crate) unsafe fn object<T>(error: *mut *mut WardError, result: Result<T, WardError>) -> *mut T {
    match result {
        Ok(value) => Box::into_raw(Box::new(value)),
        Err(failure) => {
            // SAFETY: as this function's contract says.
            unsafe { give(error, failure) };
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

/// Hands `failure` to the caller through `*error` (nothing for NULL).
///
/// # Safety
///
/// `error` is NULL or points to a `WardError *` the caller lets this
/// write.
unsafe fn give(error: *mut *mut WardError, failure: WardError) {
    if !error.is_null() {
        // SAFETY: not NULL, so a `WardError *` the caller owns (this
        // function's contract); writing a fresh box there hands it over.
        unsafe { *error = Box::into_raw(Box::new(failure)) };
    }
}

/// A reference to the object behind `pointer`, or an invalid-argument
/// error naming `what`.
///
/// # Safety
///
/// `pointer` is NULL or one this API returned and the caller has not
/// freed, and nothing frees it for `'a` (the entry point's call).
pub(crate) unsafe fn borrow<'a, T>(pointer: *const T, what: &str) -> Result<&'a T, WardError> {
    // SAFETY: such a pointer is valid and aligned (this function's
    // contract).
    unsafe { pointer.as_ref() }.ok_or_else(|| WardError::invalid(format!("{what} is NULL")))
}

/// A mutable reference to the object behind `pointer`, as [`borrow`].
///
/// # Safety
///
/// As [`borrow`], and nothing else uses the object for `'a` (a call is
/// used by one thread at a time, the header says).
pub(crate) unsafe fn borrow_mut<'a, T>(
    pointer: *mut T,
    what: &str,
) -> Result<&'a mut T, WardError> {
    // SAFETY: as this function's contract says: valid, aligned, and the
    // only reference.
    unsafe { pointer.as_mut() }.ok_or_else(|| WardError::invalid(format!("{what} is NULL")))
}

/// The `len` bytes at `data` (NULL is empty only with `len` 0).
///
/// # Safety
///
/// `data` is NULL or points to `len` readable bytes that nothing writes
/// for `'a`.
pub(crate) unsafe fn bytes<'a>(
    data: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], WardError> {
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
    // SAFETY: `len` readable bytes at `data` (this function's contract),
    // not NULL, a length that fits an allocation.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// The NUL-terminated UTF-8 text at `data`; `None` for NULL.
///
/// # Safety
///
/// `data` is NULL or a NUL-terminated string that stays alive and
/// unchanged for `'a`.
pub(crate) unsafe fn optional_str<'a>(
    data: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, WardError> {
    if data.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL, so such a string (this function's contract).
    let text = unsafe { CStr::from_ptr(data) };
    text.to_str()
        .map(Some)
        .map_err(|_| WardError::invalid(format!("{what} is not UTF-8")))
}

/// The NUL-terminated UTF-8 text at `data`, which must not be NULL.
///
/// # Safety
///
/// As [`optional_str`].
pub(crate) unsafe fn required_str<'a>(
    data: *const c_char,
    what: &str,
) -> Result<&'a str, WardError> {
    // SAFETY: as this function's contract says.
    unsafe { optional_str(data, what) }?
        .ok_or_else(|| WardError::invalid(format!("{what} is NULL")))
}

/// Takes back an object this API handed out, and drops it.
///
/// # Safety
///
/// `pointer` is NULL or one this API returned (from `Box::into_raw`)
/// that nothing uses after this.
pub(crate) unsafe fn free<T>(pointer: *mut T) {
    if pointer.is_null() {
        return;
    }
    // A panic in a destructor stops here, as everywhere.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: from `Box::into_raw` in this API, freed once (this
        // function's contract).
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
///
/// # Safety
///
/// `out` is NULL or points to a `char *` the caller lets this write.
pub(crate) unsafe fn give_string(out: *mut *mut c_char, value: &str) -> Result<(), WardError> {
    if out.is_null() {
        return Err(WardError::invalid("the output pointer is NULL"));
    }
    // SAFETY: not NULL, so writable (this function's contract).
    unsafe { *out = text(value).into_raw() };
    Ok(())
}

/// Writes `value` to `*out`, which must not be NULL.
///
/// # Safety
///
/// `out` is NULL or points to a `T` the caller lets this write.
pub(crate) unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), WardError> {
    if out.is_null() {
        return Err(WardError::invalid(format!("{what} is NULL")));
    }
    // SAFETY: not NULL, so writable (this function's contract).
    unsafe { out.write(value) };
    Ok(())
}

/// The error's status.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `error`: NULL, or a `WardError` this API returned and that is not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_error_code(error: *const WardError) -> WardStatus {
    // SAFETY: `error` is as the contract above says.
    guarded(|| unsafe { borrow(error, "error") }.map(WardError::code))
        .unwrap_or(WardStatus::InvalidArgument)
}

/// The error's kind (Ward's error kind for a rejection, such as
/// `invalid_wasm`; else a word for its status); valid until the error is
/// freed. NULL for a NULL error.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `error`: NULL, or a `WardError` this API returned and that is not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_error_kind(error: *const WardError) -> *const c_char {
    // SAFETY: `error` is as the contract above says.
    guarded(|| unsafe { borrow(error, "error") }.map(|e| e.kind.as_ptr())).unwrap_or(ptr::null())
}

/// The error's message, for people; valid until the error is freed. NULL
/// for a NULL error.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `error`: NULL, or a `WardError` this API returned and that is not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_error_message(error: *const WardError) -> *const c_char {
    // SAFETY: `error` is as the contract above says.
    guarded(|| unsafe { borrow(error, "error") }.map(|e| e.message.as_ptr())).unwrap_or(ptr::null())
}

/// Frees an error (NULL: nothing).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `error`: NULL, or a `WardError` this API returned and that is not freed and used by no other thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_error_free(error: *mut WardError) {
    // SAFETY: `error` is as the contract above says.
    unsafe { free(error) };
}

/// Frees bytes Ward returned (a NULL `data`: nothing).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `bytes`: bytes this API returned (`data` NULL or as returned, `len`
///   as returned), freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_bytes_free(bytes: WardBytes) {
    if bytes.data.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let slice = ptr::slice_from_raw_parts_mut(bytes.data, bytes.len);
        // SAFETY: `data` and `len` are those of a boxed slice this API
        // made (`WardBytes::of`), freed once (the contract above).
        drop(unsafe { Box::from_raw(slice) });
    }));
}

/// Frees a string Ward returned (NULL: nothing).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `text`: NULL, or a `c_char` this may write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_string_free(text: *mut c_char) {
    if text.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: from `CString::into_raw` in this API (`give_string`),
        // freed once (the contract above).
        drop(unsafe { CString::from_raw(text) });
    }));
}
