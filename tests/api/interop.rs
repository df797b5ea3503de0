//! The real npm `yjs` + `y-websocket` client (WebsocketProvider under Node) editing
//! through our server together with a Rust client.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, bail};

use crate::both_dbs;
use crate::helpers::*;

/// The folder of the Node clients, with their packages installed.
pub(crate) fn node_dir() -> anyhow::Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node");
    if !dir.join("node_modules/y-websocket").exists() {
        bail!(
            "{}/node_modules is missing: run `npm ci` there (the README's test command does)",
            dir.display()
        );
    }
    Ok(dir)
}

/// Waits for a Node client to finish; fails unless it exited 0 with `"ok": true`, and
/// returns its one-line JSON result.
pub(crate) async fn node_result(node: tokio::process::Child) -> anyhow::Result<serde_json::Value> {
    let output = tokio::time::timeout(WAIT * 2, node.wait_with_output())
        .await
        .context("node timed out")??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "node failed: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let result: serde_json::Value =
        serde_json::from_str(stdout.lines().last().context("no output")?)?;
    if result["ok"] != true {
        bail!("node failed: {result}");
    }
    Ok(result)
}

both_dbs!(
    a_stock_yjs_websocket_provider_co_edits_with_a_rust_client,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app
            .create_doc(&owner, "Interop", Some("Gemensam text"))
            .await?;
        app.set_role(&owner, &doc, "socialforvaltningen", "editor")
            .await?;
        let node_token = app.token("helena", "socialforvaltningen");

        let dir = node_dir()?;
        let node = tokio::process::Command::new("node")
            .current_dir(&dir)
            .arg("interop.mjs")
            .args([
                "--url",
                &format!("ws://{}/ws", app.addr),
                "--doc",
                &doc,
                "--token",
                &node_token,
            ])
            .args([
                "--write",
                "Från Node: förankrat i förvaltningarna",
                "--expect",
                "Från Rust: ändringsförslag",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting node")?;

        let mut rust = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        rust.append_paragraph("Från Rust: ändringsförslag").await?;
        rust.wait_for(|c| c.paragraphs().iter().any(|p| p.starts_with("Från Node")))
            .await?;

        let result = node_result(node).await?;
        let node_text = result["text"].as_str().context("text")?;
        let mut rust_text = rust.paragraphs();
        // Both orders of the two concurrent paragraphs are valid; both sides must agree.
        rust.wait_for(|c| c.paragraphs().len() == 3).await?;
        rust_text = if rust_text.len() == 3 {
            rust_text
        } else {
            rust.paragraphs()
        };
        assert_eq!(node_text, rust_text.join("\n"));
        assert!(node_text.starts_with("Gemensam text\n"));

        // The Node client's presence reached the room while it was connected, and the
        // server stored its edit: a fresh client sees it.
        let fresh = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        assert!(
            fresh
                .paragraphs()
                .contains(&"Från Node: förankrat i förvaltningarna".to_owned())
        );
        Ok::<_, anyhow::Error>(())
    }
);
