//! `corpus`: records real client traffic as seed inputs for the fuzz targets in `fuzz/`.
//!
//! A server runs in this process with the demo draft as a document (written as the fuzz
//! targets write it, see `forankra::fuzzing::demo_update`). The real npm
//! `y-websocket` + `yjs` clients of `tests/node` connect to it through a recording
//! WebSocket proxy: each writes a paragraph and announces its presence, and `anchor.mjs`
//! makes anchors around words of the draft, which then become threads over HTTP. Every
//! binary frame a client sent is kept (the `frame` target), split into its document
//! updates (`update`, with the server's updates too) and awareness updates (`awareness`);
//! the anchors become `anchor`
//! inputs, the request bodies sent `json` inputs, and the draft's sections `markdown`
//! inputs. Each file is named by a hash of its content, so a second run adds only what
//! is new.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use yrs::encoding::read::{Cursor, Read};

use crate::client::YClient;
use crate::server::BenchServer;
use forankra::fuzzing;

/// The demo draft, the same text `forankra serve --demo` loads.
const DRAFT: &str = include_str!("../../server/src/demo/trygghetsprogram.md");
/// Paragraphs the Node clients write, one client each: Swedish letters, an emoji, HTML.
const WRITES: [&str; 4] = [
    "Förvaltningen föreslår att åtgärden genomförs under 2021.",
    "Stadsdelsnämnderna ska redovisa resultatet årligen 📊.",
    "<b>Ingen</b> markup här & \"citat\"",
    "",
];
/// Words of the draft the anchors are made around.
const ANCHOR_WORDS: [&str; 4] = ["trygghet", "Stockholms", "samverkan", "brottsförebyggande"];

/// `forankra-bench corpus`.
#[derive(Debug, clap::Args)]
pub struct CorpusArgs {
    /// The corpus folder (one sub-folder per fuzz target).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus"))]
    out: PathBuf,
    /// The folder of the Node clients (`npm ci` there first).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/node"))]
    node_dir: PathBuf,
}

/// Records the traffic and writes the corpus.
pub async fn run(args: CorpusArgs) -> Result<()> {
    if !args.node_dir.join("node_modules/y-websocket").exists() {
        bail!(
            "{}/node_modules is missing: npm ci there",
            args.node_dir.display()
        );
    }
    let server = BenchServer::start(|_| {}).await?;
    let token = server.token("helena", "socialforvaltningen")?;
    let mut corpus = Corpus::new(&args.out);
    let create = json!({ "title": "Trygghetsprogram för Stockholms stad", "markdown": DRAFT });
    corpus.add("json", create.to_string().as_bytes())?;
    let doc = server.create_document(&token, "Trygghetsprogram").await?;

    let (frames_tx, mut frames_rx) = mpsc::unbounded_channel();
    let proxy = Proxy::start(server.addr(), frames_tx).await?;
    let url = format!("ws://{}/ws", proxy.addr);
    // The draft as the fuzz targets hold it (fixed item ids), so the anchors made on it
    // here resolve there too.
    let mut writer = YClient::connect(&format!("{url}/{doc}?token={token}")).await?;
    writer.send_update(fuzzing::demo_update().to_vec()).await?;
    writer.close().await?;
    let doc = doc.to_string();
    for text in WRITES {
        node(
            &args.node_dir,
            "interop.mjs",
            &url,
            &doc,
            &token,
            &["--write", text],
        )
        .await?;
    }
    for word in ANCHOR_WORDS {
        let found = node(
            &args.node_dir,
            "anchor.mjs",
            &url,
            &doc,
            &token,
            &["--find", word],
        )
        .await?;
        let (start, end) = (found["start"].as_str(), found["end"].as_str());
        let (Some(start), Some(end)) = (start, end) else {
            bail!("anchor.mjs gave no anchor: {found}");
        };
        corpus.add("anchor", &anchor_input(start, end)?)?;
        record_thread(&server, &token, &doc, &mut corpus, start, end, word).await?;
    }
    proxy.task.abort();
    while let Ok((direction, frame)) = frames_rx.try_recv() {
        corpus.add_frame(direction, &frame)?;
    }
    for section in DRAFT.split("\n## ") {
        corpus.add("markdown", section.as_bytes())?;
    }
    corpus.add("markdown", DRAFT.as_bytes())?;
    server.stop().await?;
    println!("{}", corpus.summary());
    Ok(())
}

/// A thread on the anchor, a reply and a resolution, each body kept.
async fn record_thread(
    server: &BenchServer,
    token: &str,
    doc: &str,
    corpus: &mut Corpus,
    start: &str,
    end: &str,
    word: &str,
) -> Result<()> {
    let create = json!({
        "anchor": { "start": start, "end": end },
        "body": format!("Vi tillstyrker skrivningen om {word}."),
        "stance": "tillstyrker",
    });
    let thread = server
        .post_json(token, &format!("/api/documents/{doc}/threads"), &create)
        .await?;
    let id = thread["id"].as_str().context("the new thread has no id")?;
    let reply = json!({ "body": "Instämmer, men se över formuleringen <i>här</i>." });
    server
        .post_json(
            token,
            &format!("/api/documents/{doc}/threads/{id}/comments"),
            &reply,
        )
        .await?;
    let resolve = json!({ "outcome": "beaktad", "motivation": "Ändrat enligt förslaget." });
    for body in [&create, &reply, &resolve] {
        corpus.add("json", body.to_string().as_bytes())?;
    }
    Ok(())
}

/// Runs one Node client script and returns its JSON result line.
async fn node(
    dir: &Path,
    script: &str,
    url: &str,
    doc: &str,
    token: &str,
    extra: &[&str],
) -> Result<Value> {
    let output = tokio::process::Command::new("node")
        .arg(dir.join(script))
        .args(["--url", url, "--doc", doc, "--token", token])
        .args(extra)
        .kill_on_drop(true)
        .output()
        .await
        .context("starting node")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: Value = serde_json::from_str(stdout.trim())
        .with_context(|| format!("{script} printed no JSON: {stdout}"))?;
    if result["ok"] != Value::Bool(true) {
        bail!("{script} failed: {result}");
    }
    Ok(result)
}

/// The `anchor` target's input: the start's length in one byte, the start, the end.
fn anchor_input(start: &str, end: &str) -> Result<Vec<u8>> {
    let start = STANDARD.decode(start)?;
    let end = STANDARD.decode(end)?;
    let mut input = vec![u8::try_from(start.len()).context("a long start position")?];
    input.extend(start);
    input.extend(end);
    Ok(input)
}

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    FromClient,
    FromServer,
}

/// A WebSocket proxy that forwards both ways and reports what clients send.
struct Proxy {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(
        upstream: std::net::SocketAddr,
        frames: mpsc::UnboundedSender<(Direction, Vec<u8>)>,
    ) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(forward(tcp, upstream, frames.clone()));
            }
        });
        Ok(Self { addr, task })
    }
}

// The handshake callback's error type is tungstenite's HTTP response, not ours.
#[allow(clippy::result_large_err)]
async fn forward(
    tcp: tokio::net::TcpStream,
    upstream: std::net::SocketAddr,
    frames: mpsc::UnboundedSender<(Direction, Vec<u8>)>,
) {
    let mut target = String::new();
    let accepted =
        tokio_tungstenite::accept_hdr_async(tcp, |request: &Request, response: Response| {
            target = request.uri().to_string();
            Ok(response)
        })
        .await;
    let Ok(client) = accepted else { return };
    let Ok((server, _)) =
        tokio_tungstenite::connect_async(format!("ws://{upstream}{target}")).await
    else {
        return;
    };
    let (mut client_tx, mut client_rx) = client.split();
    let (mut server_tx, mut server_rx) = server.split();
    let down = async {
        while let Some(Ok(message)) = server_rx.next().await {
            if let WsMessage::Binary(bytes) = &message {
                let _ = frames.send((Direction::FromServer, bytes.to_vec()));
            }
            if client_tx.send(message).await.is_err() {
                break;
            }
        }
    };
    let up = async {
        while let Some(Ok(message)) = client_rx.next().await {
            if let WsMessage::Binary(bytes) = &message {
                let _ = frames.send((Direction::FromClient, bytes.to_vec()));
            }
            if server_tx.send(message).await.is_err() {
                break;
            }
        }
    };
    tokio::select! { () = down => {}, () = up => {} }
}

/// The corpus folder and what was added to it.
struct Corpus {
    root: PathBuf,
    added: std::collections::BTreeMap<&'static str, usize>,
}

impl Corpus {
    fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            added: Default::default(),
        }
    }

    /// Writes `input` for `target` under a name made from its content.
    fn add(&mut self, target: &'static str, input: &[u8]) -> Result<()> {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut hasher = DefaultHasher::new();
        input.hash(&mut hasher);
        let path = dir.join(format!("{:016x}", hasher.finish()));
        if !path.exists() {
            std::fs::write(&path, input).with_context(|| format!("writing {}", path.display()))?;
            *self.added.entry(target).or_default() += 1;
        }
        Ok(())
    }

    /// A frame's update and awareness payloads; a client's frame also as a whole (the
    /// server's frames are inputs for the update target only: it holds the draft).
    fn add_frame(&mut self, direction: Direction, frame: &[u8]) -> Result<()> {
        if direction == Direction::FromClient {
            self.add("frame", frame)?;
        }
        let mut cursor = Cursor::new(frame);
        while cursor.has_content() {
            let Ok(tag) = cursor.read_var::<u64>() else {
                break;
            };
            match tag {
                0 => {
                    let Ok(kind) = cursor.read_var::<u64>() else {
                        break;
                    };
                    let Ok(payload) = cursor.read_buf() else {
                        break;
                    };
                    // Step 2 and update carry updates; step 1 a state vector.
                    if kind == 1 || kind == 2 {
                        self.add("update", payload)?;
                    }
                }
                1 => {
                    let Ok(payload) = cursor.read_buf() else {
                        break;
                    };
                    if direction == Direction::FromClient {
                        self.add("awareness", payload)?;
                    }
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn summary(&self) -> String {
        let parts: Vec<String> = self
            .added
            .iter()
            .map(|(t, n)| format!("{t}: {n}"))
            .collect();
        format!(
            "new corpus inputs in {}: {}",
            self.root.display(),
            parts.join(", ")
        )
    }
}
