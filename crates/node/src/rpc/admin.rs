//! The `admin` object of `sendTransaction` and `simulateTransaction`: an
//! upgrade or an admin change (`docs/contracts.md`, "Upgrades").

use ward_chain::tx::{AdminAction, Payload};
use ward_primitives::Address;

use super::{Params, RpcError, unhex32};

/// `{"contract", "upgrade": {"code", "input"}}` or `{"contract",
/// "set_admin": ADDRESS | null}`.
pub(super) fn payload(mut a: Params) -> Result<Payload, RpcError> {
    let contract = a.address("contract")?;
    let has_set = a.0.contains_key("set_admin");
    let action = match (a.object("upgrade")?, has_set) {
        (Some(mut u), false) => {
            let code = u
                .bytes("code")?
                .ok_or_else(|| RpcError::invalid_params("\"admin.upgrade.code\" is required"))?;
            let input = u.bytes("input")?.unwrap_or_default();
            u.done()?;
            AdminAction::Upgrade { code, input }
        }
        (None, true) => {
            let admin = a
                .string("set_admin")?
                .map(|text| unhex32(&text).map(Address));
            let admin = admin
                .transpose()
                .map_err(|e| RpcError::invalid_params(format!("\"admin.set_admin\": {e}")))?;
            AdminAction::SetAdmin(admin)
        }
        _ => {
            return Err(RpcError::invalid_params(
                "\"admin\" takes exactly one of \"upgrade\" and \"set_admin\"",
            ));
        }
    };
    a.done()?;
    Ok(Payload::Admin { contract, action })
}
