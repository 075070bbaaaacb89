//! The OpenAPI links from each create response to the operations its keys open, so clients and
//! API fuzzers can follow a secret from create to status, view and burn.

use serde_json::{Value, json};

/// A link from a response to an operation, its `key` path parameter taken from the response body
/// at `pointer` (a JSON pointer), with what following it does.
pub(super) struct Link {
    pub(super) name: &'static str,
    pub(super) operation_id: &'static str,
    pub(super) pointer: &'static str,
    pub(super) description: &'static str,
}

/// The links of `POST /api/secrets`'s answer.
const NATIVE_CREATE_LINKS: &[Link] = &[
    Link {
        name: "StatusByMetadataKey",
        operation_id: "getSecretStatus",
        pointer: "/metadata/key",
        description: "The secret's status through its metadata key (also gives the secret key).",
    },
    Link {
        name: "StatusBySecretKey",
        operation_id: "getSecretStatus",
        pointer: "/metadata/secretKey",
        description: "The secret's status as its recipient sees it.",
    },
    Link {
        name: "View",
        operation_id: "viewSecret",
        pointer: "/metadata/secretKey",
        description: "View the secret (counts a view).",
    },
    Link {
        name: "Burn",
        operation_id: "burnSecret",
        pointer: "/metadata/key",
        description: "Burn the secret with its metadata key.",
    },
];

/// The links of the Onetime Secret dialect's receipts (`share`, `create`, `generate`).
const OTS_CREATE_LINKS: &[Link] = &[
    Link {
        name: "Reveal",
        operation_id: "otsRevealSecret",
        pointer: "/secret_key",
        description: "Reveal the secret (destroys it).",
    },
    Link {
        name: "Receipt",
        operation_id: "otsReadPrivate",
        pointer: "/metadata_key",
        description: "Read the receipt.",
    },
    Link {
        name: "ReceiptByPost",
        operation_id: "otsReadPrivateByPost",
        pointer: "/metadata_key",
        description: "Read the receipt (by POST).",
    },
    Link {
        name: "ReceiptAsMetadata",
        operation_id: "otsReadMetadata",
        pointer: "/metadata_key",
        description: "Read the receipt (the `metadata` alias).",
    },
    Link {
        name: "ReceiptAsMetadataByPost",
        operation_id: "otsReadMetadataByPost",
        pointer: "/metadata_key",
        description: "Read the receipt (the `metadata` alias, by POST).",
    },
    Link {
        name: "ReceiptAsReceipt",
        operation_id: "otsReadReceipt",
        pointer: "/metadata_key",
        description: "Read the receipt (the `receipt` alias).",
    },
    Link {
        name: "ReceiptAsReceiptByPost",
        operation_id: "otsReadReceiptByPost",
        pointer: "/metadata_key",
        description: "Read the receipt (the `receipt` alias, by POST).",
    },
    Link {
        name: "Burn",
        operation_id: "otsBurnPrivate",
        pointer: "/metadata_key",
        description: "Burn the secret with its receipt key.",
    },
    Link {
        name: "BurnAsMetadata",
        operation_id: "otsBurnMetadata",
        pointer: "/metadata_key",
        description: "Burn the secret (the `metadata` alias).",
    },
    Link {
        name: "BurnAsReceipt",
        operation_id: "otsBurnReceipt",
        pointer: "/metadata_key",
        description: "Burn the secret (the `receipt` alias).",
    },
];

/// Which operations' 200 answers carry which links.
pub(super) const LINKED_OPERATIONS: &[(&str, &str, &[Link])] = &[
    ("/api/secrets", "post", NATIVE_CREATE_LINKS),
    ("/api/v1/share", "post", OTS_CREATE_LINKS),
    ("/api/v1/create", "post", OTS_CREATE_LINKS),
    ("/api/v1/generate", "post", OTS_CREATE_LINKS),
];

pub(super) fn links_object(links: &[Link]) -> Value {
    links
        .iter()
        .map(|link| {
            let value = json!({
                "operationId": link.operation_id,
                "parameters": { "key": format!("$response.body#{}", link.pointer) },
                "description": link.description,
            });
            (link.name.to_owned(), value)
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}
