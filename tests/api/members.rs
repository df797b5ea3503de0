//! Roles per organisation and per user, and how changes reach live connections.

use serde_json::json;

use crate::both_dbs;
use crate::helpers::*;

both_dbs!(
    only_owners_manage_members_and_the_owner_stays_owner,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Roller", None).await?;
        assert_eq!(
            app.set_role(&owner, &doc, "socialforvaltningen", "editor")
                .await?,
            200
        );
        let editor = app.token("helena", "socialforvaltningen");
        assert_eq!(
            app.set_role(&editor, &doc, "kulturforvaltningen", "viewer")
                .await?,
            403
        );
        assert_eq!(
            app.set_role(&owner, &doc, "stadsledningskontoret", "viewer")
                .await?,
            409
        );
        assert_eq!(
            app.set_role(&owner, &doc, "kulturforvaltningen", "admin")
                .await?,
            422
        );
        let outsider = app.token("x", "kulturforvaltningen");
        assert_eq!(
            app.set_role(&outsider, &doc, "kulturforvaltningen", "owner")
                .await?,
            403
        );

        let (status, body) = app
            .get_text(&editor, &format!("/api/documents/{doc}/members"))
            .await?;
        assert_eq!(status, 200);
        let members: serde_json::Value = serde_json::from_str(&body)?;
        let roles: Vec<(String, String)> = members
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| {
                        (
                            m["id"].as_str().unwrap_or("").to_owned(),
                            m["role"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert!(roles.contains(&("stadsledningskontoret".into(), "owner".into())));
        assert!(roles.contains(&("socialforvaltningen".into(), "editor".into())));

        // A user-level role lifts one person above their organisation's.
        let response = app
            .http
            .put(app.url(&format!("/api/documents/{doc}/user-members/x")))
            .bearer_auth(&owner)
            .json(&json!({"role": "commenter"}))
            .send()
            .await?;
        assert_eq!(response.status(), 200);
        let (status, body) = app
            .get_text(&outsider, &format!("/api/documents/{doc}"))
            .await?;
        assert_eq!(status, 200);
        assert!(body.contains(r#""role":"commenter""#), "{body}");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    revoking_or_lowering_a_role_takes_effect_on_live_sockets,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Återkallad", Some("Start")).await?;
        app.set_role(&owner, &doc, "socialforvaltningen", "editor")
            .await?;
        app.set_role(&owner, &doc, "kulturforvaltningen", "editor")
            .await?;
        let mut social =
            WsClient::connect(&app.ws_url(&doc, &app.token("helena", "socialforvaltningen")))
                .await?;
        let mut kultur =
            WsClient::connect(&app.ws_url(&doc, &app.token("ingrid", "kulturforvaltningen")))
                .await?;
        let mut watcher = WsClient::connect(&app.ws_url(&doc, &owner)).await?;

        // Editing works while the role allows it.
        kultur.append_paragraph("Kultur skriver").await?;
        watcher.wait_for(|c| c.paragraphs().len() == 2).await?;

        // Removing the organisation closes its socket at once with 4403.
        let removed = app
            .http
            .delete(app.url(&format!("/api/documents/{doc}/members/socialforvaltningen")))
            .bearer_auth(&owner)
            .send()
            .await?;
        assert_eq!(removed.status(), 200);
        let (code, reason) = social.expect_close().await?;
        assert_eq!(code, 4403, "{reason}");

        // Lowering to viewer closes the socket with 4100 (reconnect and learn the new
        // role); what a viewer sends after reconnecting is dropped.
        assert_eq!(
            app.set_role(&owner, &doc, "kulturforvaltningen", "viewer")
                .await?,
            200
        );
        let (code, reason) = kultur.expect_close().await?;
        assert_eq!(code, 4100, "{reason}");
        assert!(reason.contains("viewer"), "{reason}");
        kultur
            .reconnect(&app.ws_url(&doc, &app.token("ingrid", "kulturforvaltningen")))
            .await?;
        kultur.append_paragraph("Efter nedgradering").await?;
        watcher.append_paragraph("Ägaren skriver").await?;
        let mut fresh = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        fresh.wait_for(|c| c.paragraphs().len() == 3).await?;
        assert_eq!(
            fresh.paragraphs(),
            vec!["Start", "Kultur skriver", "Ägaren skriver"]
        );
        kultur
            .wait_for(|c| c.paragraphs().contains(&"Ägaren skriver".to_owned()))
            .await?;
        assert!(kultur.closed.is_none());
        Ok::<_, anyhow::Error>(())
    }
);
