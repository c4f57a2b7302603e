//! The demo's seed resources, shaped like the real use: Gmail-style labels, a settings document,
//! feature flags with rules, posts, and a read-only resource. Exported so tests compare against
//! the same documents the server starts with.

use serde_json::{json, Value};

/// Every seed resource: (path, document), in the order they are listed.
pub fn documents() -> Vec<(String, Value)> {
    let mut m = Vec::new();
    let labels = [
        ("Label_1", "Customers", "#16a766", "#ffffff"),
        ("Label_2", "Invoices", "#fad165", "#000000"),
        ("Label_3", "Escalations", "#cc3a21", "#ffffff"),
        ("Label_4", "Newsletters", "#a4c2f4", "#000000"),
    ];
    for (id, name, bg, fg) in labels {
        m.push((
            format!("/labels/{id}"),
            json!({
                "id": id,
                "name": name,
                "messageListVisibility": "show",
                "labelListVisibility": "labelShow",
                "type": "user",
                "color": {"textColor": fg, "backgroundColor": bg}
            }),
        ));
    }
    m.push((
        "/settings".to_string(),
        json!({
            "siteName": "Acme Support",
            "supportEmail": "help@acme.example",
            "timezone": "Europe/Berlin",
            "maintenanceMode": false,
            "session": {"timeoutMinutes": 30, "rememberMe": true},
            "notifications": {"email": true, "slack": false, "digest": "daily"},
            "limits": {"maxUploadMb": 25, "requestsPerMinute": 600},
            "branding": {"primaryColor": "#1a73e8", "logoUrl": "https://cdn.acme.example/logo.svg"},
            "allowedDomains": ["acme.example", "acme-support.example"]
        }),
    ));
    m.push((
        "/flags/new-checkout".to_string(),
        json!({
            "key": "new-checkout",
            "description": "The redesigned checkout flow",
            "enabled": true,
            "defaultVariant": "off",
            "variants": {"on": true, "off": false},
            "rules": [
                {"id": "beta-testers", "attribute": "group", "op": "in", "values": ["beta"], "variant": "on"},
                {"id": "dach-rollout", "attribute": "country", "op": "in", "values": ["DE", "AT", "CH"], "rollout": 25, "variant": "on"}
            ]
        }),
    ));
    m.push((
        "/flags/dark-mode".to_string(),
        json!({
            "key": "dark-mode",
            "description": "Dark theme for the admin console",
            "enabled": false,
            "defaultVariant": "off",
            "variants": {"on": true, "off": false},
            "rules": []
        }),
    ));
    m.push((
        "/posts/1".to_string(),
        json!({
            "id": 1,
            "title": "Scheduled maintenance on Saturday",
            "body": "The support portal will be read-only from 06:00 to 08:00 UTC.",
            "tags": ["maintenance", "status"],
            "published": false,
            "author": {"name": "Dana Admin", "email": "dana@acme.example"}
        }),
    ));
    m.push((
        "/system/info".to_string(),
        json!({
            "server": "ifmatch demo",
            "note": "read-only: writes here answer 403 Forbidden"
        }),
    ));
    m
}

/// The seed document at `path` (None when the seed has none there).
pub fn document(path: &str) -> Option<Value> {
    documents()
        .into_iter()
        .find(|(p, _)| p == path)
        .map(|(_, v)| v)
}
