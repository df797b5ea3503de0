//! Real-time sync between real WebSocket clients.

use yrs::{Text, XmlFragment, XmlOut};

use crate::both_dbs;
use crate::helpers::*;

both_dbs!(
    two_clients_converge_on_concurrent_edits,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app
            .create_doc(&owner, "Trygghetsprogram", Some("Inledning"))
            .await?;
        app.set_role(&owner, &doc, "socialforvaltningen", "editor")
            .await?;
        let editor = app.token("helena", "socialforvaltningen");

        let mut a = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let mut b = WsClient::connect(&app.ws_url(&doc, &editor)).await?;
        assert_eq!(a.paragraphs(), vec!["Inledning"]);
        assert_eq!(b.paragraphs(), vec!["Inledning"]);

        // Both type into the same paragraph at the same time, and each adds a paragraph.
        let edit_first = |prefix: &'static str| {
            move |txn: &mut yrs::TransactionMut, frag: &yrs::XmlFragmentRef| {
                if let Some(XmlOut::Element(p)) = frag.get(txn, 0)
                    && let Some(XmlOut::Text(t)) = p.get(txn, 0)
                {
                    t.insert(txn, 0, prefix);
                }
            }
        };
        a.edit(edit_first("Förslag: ")).await?;
        b.edit(edit_first("Remiss – ")).await?;
        a.append_paragraph("Förebyggande arbete i skolan är viktigt.")
            .await?;
        b.append_paragraph("Socialförvaltningen tillstyrker.")
            .await?;

        let converged = |c: &WsClient| {
            c.paragraphs().len() == 3 && c.paragraphs()[0].len() > "Inledning".len() + 12
        };
        a.wait_for(converged).await?;
        b.wait_for(converged).await?;
        b.wait_for(|c| c.state_vector() == a.state_vector()).await?;
        assert_eq!(a.paragraphs(), b.paragraphs());
        let first = &a.paragraphs()[0];
        assert!(
            first.contains("Förslag: ")
                && first.contains("Remiss – ")
                && first.ends_with("Inledning"),
            "{first}"
        );

        // A third client joining later receives the merged document from the server.
        let c = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        assert_eq!(c.paragraphs(), a.paragraphs());
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    awareness_arrives_and_is_removed_on_leave,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Närvaro", None).await?;
        app.set_role(&owner, &doc, "kulturforvaltningen", "viewer")
            .await?;
        let viewer = app.token("ingrid", "kulturforvaltningen");

        let mut watcher = WsClient::connect(&app.ws_url(&doc, &viewer)).await?;
        let mut anna = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let anna_id = anna.doc.client_id().get();
        anna.set_presence(
            1,
            r#"{"user":{"name":"Anna","org":"Stadsledningskontoret"}}"#,
        )
        .await?;

        watcher
            .wait_for(|c| c.presence.contains_key(&anna_id))
            .await?;
        assert!(watcher.presence[&anna_id].contains("Stadsledningskontoret"));
        // The sender hears its own state back: that is what keeps an idle client connected.
        anna.wait_for(|c| c.presence.contains_key(&anna_id)).await?;

        // A client joining later gets the current presence at once.
        let mut late = WsClient::connect(&app.ws_url(&doc, &viewer)).await?;
        late.wait_for(|c| c.presence.contains_key(&anna_id)).await?;

        anna.close().await?;
        watcher
            .wait_for(|c| !c.presence.contains_key(&anna_id))
            .await?;
        late.wait_for(|c| !c.presence.contains_key(&anna_id))
            .await?;
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_viewers_and_a_commenters_updates_are_neither_stored_nor_relayed,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app
            .create_doc(&owner, "Läsrätt", Some("Originaltext"))
            .await?;
        app.set_role(&owner, &doc, "kulturforvaltningen", "viewer")
            .await?;
        app.set_role(&owner, &doc, "utbildningsforvaltningen", "commenter")
            .await?;

        let mut owner_client = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        for (user, org) in [
            ("ingrid", "kulturforvaltningen"),
            ("sara", "utbildningsforvaltningen"),
        ] {
            let mut reader = WsClient::connect(&app.ws_url(&doc, &app.token(user, org))).await?;
            reader.append_paragraph("Detta får inte synas").await?;
            // The reader's own socket keeps working: it still answers an awareness query.
            reader
                .send_message(yrs::sync::Message::AwarenessQuery)
                .await?;
            reader
                .set_presence(1, r#"{"user":{"name":"Läsare"}}"#)
                .await?;
            let id = reader.doc.client_id().get();
            reader.wait_for(|c| c.presence.contains_key(&id)).await?;
        }
        // The owner's next edit arrives at a fresh client, and the dropped ones never do.
        owner_client.append_paragraph("Ägarens text").await?;
        let mut fresh = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        fresh.wait_for(|c| c.paragraphs().len() == 2).await?;
        assert_eq!(fresh.paragraphs(), vec!["Originaltext", "Ägarens text"]);
        assert_eq!(
            app.metric("forankra_updates_dropped_read_only_total")
                .await?,
            2.0
        );
        let (_, markdown) = app
            .get_text(&owner, &format!("/api/documents/{doc}/markdown"))
            .await?;
        assert!(!markdown.contains("Detta får inte synas"), "{markdown}");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    an_idle_room_is_compacted_and_unloaded,
    |backend| async move {
        let app = TestApp::spawn_with(backend, |c| {
            c.room_idle_unload = std::time::Duration::from_millis(100)
        })
        .await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Kompaktering", None).await?;
        let mut client = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        for i in 0..50 {
            client
                .append_paragraph(&format!("Stycke {i} om trygghet i förorten"))
                .await?;
        }
        let mut other = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        other.wait_for(|c| c.paragraphs().len() == 50).await?;
        let doc_id = forankra::ids::DocId::parse(doc.clone())?;
        let before = app.state.journal.stored_size(&doc_id).await?;
        assert_eq!(before.log_rows, 50);
        client.close().await?;
        other.close().await?;
        tokio::time::timeout(WAIT, app.state.rooms.until_all_closed()).await?;
        let after = app.state.journal.stored_size(&doc_id).await?;
        assert_eq!(after.log_rows, 0, "{after:?}");
        assert!(
            after.snapshot_bytes > 0 && after.snapshot_bytes < before.log_bytes,
            "{before:?} {after:?}"
        );
        let again = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        assert_eq!(again.paragraphs().len(), 50);
        assert_eq!(again.paragraphs()[49], "Stycke 49 om trygghet i förorten");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_document_over_a_megabyte_reaches_a_joining_client_who_keeps_receiving_edits,
    |backend| async move {
        // A frame of 1 MiB or more (the joining client's whole document) is written
        // on the bulk thread (`sync::bulk`), which takes the socket's sink for the write
        // and must hand it back: the same connection goes on to receive edits.
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Stor remiss", None).await?;
        let mut writer = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let long = "Trygghet i staden kräver samverkan mellan förvaltningarna. ".repeat(24_000);
        assert!(long.len() > 1 << 20);
        writer.append_paragraph(&long).await?;
        // Whether it reaches the reader in its sync step 2 or relayed just after, it is
        // one frame of more than 1 MiB.
        let mut reader = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        reader.wait_for(|c| c.paragraphs().contains(&long)).await?;
        for line in [
            "Socialförvaltningen tillstyrker.",
            "Kulturförvaltningen avstyrker.",
        ] {
            writer.append_paragraph(line).await?;
            reader
                .wait_for(|c| c.paragraphs().last().map(String::as_str) == Some(line))
                .await?;
        }
        // A second large frame (a relayed update), on the same connection.
        writer.append_paragraph(&long).await?;
        reader
            .wait_for(|c| c.paragraphs().iter().filter(|p| **p == long).count() == 2)
            .await?;
        writer.append_paragraph("Slut.").await?;
        reader
            .wait_for(|c| c.paragraphs().last().map(String::as_str) == Some("Slut."))
            .await?;
        Ok::<_, anyhow::Error>(())
    }
);
