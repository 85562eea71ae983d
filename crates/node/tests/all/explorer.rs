//! The explorer in a real headless Chromium, driven over WebDriver
//! (chromedriver) against a live dev node: the home page sees a new block
//! arrive over the WebSocket, the transaction page shows the decoded event,
//! its trace and the flame graph of its gas, and the contract page's form
//! runs a read-only method. A screenshot of
//! each page is left under `target/explorer/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`make test` installs
//! them as root); without them the test prints why and skips.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use ward_devkeys as devkeys;
use ward_node::Node;

use crate::{dev_node, ok};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const BOB: &str = "0xb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
/// How long any one thing may take to appear on a page: a bound for a
/// page that never shows it, far past what a loaded machine takes.
const PATIENCE: Duration = Duration::from_secs(90);

/// A chromedriver this test started, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = ward_vm::clock::now() + PATIENCE;
    while !ward_vm::clock::passed(deadline) {
        let ready = crate::agent()
            .get(format!("{}/status", driver.url))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .is_some_and(|body| body.contains("\"ready\":true"));
        if ready {
            return driver;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("chromedriver did not become ready on port {port}");
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/explorer");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn browser(driver: &Driver, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1280,1100",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap()
}

async fn shot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots().join(name), png).unwrap();
}

/// Clicks the element `css` selects.
async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits until the element at `css` has text containing `needle`.
async fn text_of(client: &Client, css: &str, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
            && text.contains(needle)
        {
            return text;
        }
        if tokio::time::Instant::now() > deadline {
            let page = client.source().await.unwrap_or_default();
            panic!("no {css:?} containing {needle:?} after {PATIENCE:?}:\n{page}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn send(node: &Node, call: Value) -> Value {
    let receipt = ok(
        node,
        "sendTransaction",
        json!({ "from": devkeys::address(0).to_string(), "call": call, "gas_price": "3", "wait": true }),
    );
    assert_eq!(receipt["status"], "ok", "{receipt}");
    receipt
}

async fn scenario(node: &Node, driver: &Driver, profile: &Path) {
    let code = ward_testkit::contracts::wasm("token");
    let deployed = ok(
        node,
        "sendTransaction",
        json!({
            "from": devkeys::address(0).to_string(),
            "deploy": { "code": format!("0x{}", hex::encode(&code)), "args": { "initial_supply": "1000000" } },
            "gas": 100_000_000,
            "wait": true,
        }),
    );
    let token = deployed["address"].as_str().unwrap().to_owned();
    let client = browser(driver, profile).await;
    let base = node.url();

    // The home page: the deploy's block, then a new block pushed over the
    // WebSocket while the page stays open.
    client.goto(&format!("{base}/")).await.unwrap();
    text_of(&client, "#blocks tr[data-height=\"1\"]", "1").await;
    text_of(&client, "#live", "live").await;
    let sent = send(
        node,
        json!({ "to": token, "method": "transfer", "args": { "to": BOB, "amount": "250" } }),
    );
    let height = sent["height"].as_u64().unwrap();
    let row = format!("#blocks tr[data-height=\"{height}\"]");
    text_of(&client, &row, &height.to_string()).await;
    assert!(client.current_url().await.unwrap().path() == "/");
    shot(&client, "home.png").await;

    // From the new block's row to its block page, then to the transaction.
    click(&client, &format!("{row} td:first-child a")).await;
    text_of(&client, "h1", &format!("Block {height}")).await;
    let tx = sent["tx"].as_str().unwrap();
    click(&client, "#txs a[href^=\"/tx/\"]").await;
    text_of(&client, "#method", "transfer(to: address, amount: u128)").await;
    assert_eq!(
        client.current_url().await.unwrap().path(),
        format!("/tx/{tx}")
    );
    text_of(&client, "#events tr.event td.event-name", "Transfer").await;
    let fields = text_of(
        &client,
        "#events tr.event td.event-fields",
        "\"amount\": \"250\"",
    )
    .await;
    assert!(fields.contains(BOB), "{fields}");
    text_of(&client, "#args tr[data-arg=\"to\"]", BOB).await;
    // The fee (3 per gas), both ways.
    let fee = sent["fee"].as_str().unwrap();
    assert_eq!(
        fee.parse::<u64>().unwrap(),
        3 * sent["gas_used"].as_u64().unwrap()
    );
    text_of(&client, "#fee", &format!("{fee} (0.")).await;
    // The trace, replayed on request: the token's frame with its method,
    // arguments, and the event.
    click(&client, "#show-trace").await;
    text_of(&client, "#trace li.frame .frame-method", "transfer").await;
    text_of(&client, "#trace ul.accesses", "event Transfer").await;
    shot(&client, "transaction.png").await;
    client
        .execute(
            "document.getElementById('trace').scrollIntoView()",
            Vec::new(),
        )
        .await
        .unwrap();
    shot(&client, "trace.png").await;
    // The flame graph of its gas, from the link: an SVG whose title names
    // the transaction and its total, every frame drawn.
    let href = client
        .find(Locator::Css("#flame-graph"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        href,
        format!("/trace/{}/flamegraph.svg", sent["tx"].as_str().unwrap())
    );
    click(&client, "#flame-graph").await;
    let title = text_of(&client, "svg #title", "Gas of").await;
    let total = sent["gas_used"].as_u64().unwrap();
    assert!(title.contains(&format!("{total} gas")), "{title}");
    let frames = client.find_all(Locator::Css("#frames g")).await.unwrap();
    assert!(frames.len() > 5, "{} frames drawn", frames.len());
    shot(&client, "flamegraph.png").await;

    // The contract page, opened from a shared link, runs a read-only method.
    client
        .goto(&format!("{base}/contract/{token}"))
        .await
        .unwrap();
    text_of(&client, "#schema", "balance_of(who: address) -> u128").await;
    text_of(&client, "#balance", "0 (0 WARD)").await;
    let form = "form.query[data-method=\"balance_of\"]";
    client
        .find(Locator::Css(&format!("{form} input[name=\"who\"]")))
        .await
        .unwrap()
        .send_keys(BOB)
        .await
        .unwrap();
    click(&client, &format!("{form} button")).await;
    let result = text_of(
        &client,
        &format!("{form} .result[data-status=\"ok\"]"),
        "250",
    )
    .await;
    assert!(result.contains("\"250\""), "{result}");
    text_of(&client, "#storage", "0x").await;
    shot(&client, "contract.png").await;

    // A stranger's bytes are shown as text: a revert message that is
    // markup creates no element and runs nothing.
    let hostile =
        r#"<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>"#;
    let wat = format!(
        r#"(module
          (import "ward" "output_write" (func $out (param i32 i32)))
          (import "ward" "exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "{}")
          (func (export "main") (call $out (i32.const 0) (i32.const {})) (call $exit (i32.const 1))))"#,
        hostile.replace('"', "\\\""),
        hostile.len()
    );
    let code = wat::parse_str(&wat).unwrap();
    let deployed = ok(
        node,
        "sendTransaction",
        json!({
            "from": devkeys::address(0).to_string(),
            "deploy": { "code": format!("0x{}", hex::encode(&code)) },
            "gas": 10_000_000,
            "wait": true,
        }),
    );
    let reverted = ok(
        node,
        "sendTransaction",
        json!({
            "from": devkeys::address(0).to_string(),
            "call": { "to": deployed["address"], "input": "0x" },
            "wait": true,
        }),
    );
    assert_eq!(reverted["status"], "reverted", "{reverted}");
    assert_eq!(reverted["decoded"], hostile);
    client
        .goto(&format!("{base}/tx/{}", reverted["tx"].as_str().unwrap()))
        .await
        .unwrap();
    text_of(&client, "main", "onerror=").await;
    assert!(
        client
            .find_all(Locator::Css("main img, main script"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_ne!(client.title().await.unwrap(), "pwned");

    // The search box finds a transaction by its hash.
    client.goto(&format!("{base}/search?q={tx}")).await.unwrap();
    text_of(&client, "#method", "transfer").await;
    client.close().await.unwrap();
}

/// Whether Chromium and chromedriver are here (else the test says why:
/// `ward_testkit::skip`).
fn have_browser() -> bool {
    for program in [CHROMIUM, CHROMEDRIVER] {
        if !Path::new(program).exists() {
            ward_testkit::skip(&format!(
                "{program} is missing (Debian's chromium and chromium-driver; `make test` installs them as root)"
            ));
            return false;
        }
    }
    true
}

/// A block of 60 transactions: its page shows the first 50 receipts, and
/// the rest when asked (it fetched every one at once before). Integers
/// past 2^53 stay exact (a JavaScript number would drop digits).
async fn paging(node: &Node, driver: &Driver, profile: &Path) {
    let from = devkeys::address(0).to_string();
    for _ in 0..60 {
        ok(
            node,
            "sendTransaction",
            json!({ "from": from, "call": { "to": format!("0x{}", "03".repeat(32)) }, "gas": 1_000_000 }),
        );
    }
    let block = ok(node, "mine", json!({}));
    assert_eq!(block["txs"].as_array().unwrap().len(), 60, "{block}");
    let height = block["height"].as_u64().unwrap();
    let client = browser(driver, profile).await;
    client
        .goto(&format!("{}/block/{height}", node.url()))
        .await
        .unwrap();
    text_of(&client, "h2", "Transactions (60)").await;
    let rows = |client: Client| async move {
        client
            .find_all(Locator::Css("#txs tbody tr"))
            .await
            .unwrap()
            .len()
    };
    text_of(&client, "#more", "Show more").await;
    assert_eq!(rows(client.clone()).await, 50);
    click(&client, "#more").await;
    text_of(&client, "#txs tbody tr:nth-child(60)", "59").await;
    assert_eq!(rows(client.clone()).await, 60);
    assert!(
        client.find(Locator::Css("#more")).await.is_err(),
        "no more to show"
    );
    let exact = client
        .execute(
            "return parseJson('{\"a\": 18446744073709551615, \"b\": [9007199254740993]}')",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        exact,
        json!({ "a": "18446744073709551615", "b": ["9007199254740993"] })
    );
    shot(&client, "block-paged.png").await;
    client.close().await.unwrap();
}

/// A browser scenario against a dev node configured by `configure`, with
/// chromedriver and a fresh profile, within `limit`; everything it started
/// is stopped after.
macro_rules! in_browser {
    ($name:literal, $configure:expr, $limit:expr, $scenario:ident) => {{
        if !have_browser() {
            return;
        }
        let node = dev_node($name, $configure);
        let driver = start_driver();
        let profile = crate::temp_dir(concat!($name, "-profile"));
        crate::run_async(
            concat!("the ", stringify!($scenario), " scenario"),
            $limit,
            $scenario(&node, &driver, &profile),
        );
        drop(driver);
        node.shutdown().unwrap();
        let _ = std::fs::remove_dir_all(&profile);
    }};
}

#[test]
fn the_block_page_pages_its_receipts_and_keeps_big_integers_exact() {
    // Blocks only when asked, so that one holds all 60.
    in_browser!(
        "explorer-paging",
        |c: &mut ward_node::NodeConfig| c.block_time_ms = 3_600_000,
        Duration::from_secs(600),
        paging
    );
}

#[test]
fn the_explorer_works_in_a_real_browser() {
    in_browser!(
        "explorer",
        |_: &mut ward_node::NodeConfig| {},
        Duration::from_secs(900),
        scenario
    );
}
