//! `POST /api/secrets` as `multipart/form-data`: a `file` part streamed straight into the
//! encrypted blob store, and the JSON body's fields as text parts (`secret` becomes a note sent
//! with the file). Nothing of the file is buffered beyond one chunk, and nothing is kept when the
//! request fails.
//!
//! The form is parsed by `multer` straight from the body's chunks as they arrive (poem's own
//! `Multipart` re-reads the body 4 KiB at a time and copies each part once more on the way out:
//! `docs/decisions/0013-file-bytes-in-large-writes-with-fewer-copies.md`).

use multer::{Field, Multipart};
use poem::error::ParseMultipartError;
use poem::http::header::CONTENT_TYPE;
use poem::{Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{MaybeUndefined, Type};

use super::options::RawOptions;
use super::{ErrorCode, NativeError};
use crate::api::schema::BoundedInt;
use crate::api::upload_stream::UploadOverLimit;
use crate::domain::{ContentType, DomainError, FileDetails, FileName, SecretText};
use crate::service::{Caller, Created, FileUpload, SecretService, ServiceError};

/// Largest text part (a passphrase, a number), in bytes.
pub const MAX_TEXT_PART: usize = 16 * 1024;
/// Largest note sent with a file, in bytes: it travels back in a response header, which proxies
/// and clients cap at a few KiB (percent-encoding can triple it).
pub const MAX_NOTE_BYTES: usize = 1000;

/// A `multipart/form-data` create request, read as it streams in.
pub struct FileForm {
    form: Multipart<'static>,
    /// Set by the body limit when the request crossed it.
    over_limit: Option<UploadOverLimit>,
}

impl Payload for FileForm {
    const CONTENT_TYPE: &'static str = "multipart/form-data";

    fn check_content_type(content_type: &str) -> bool {
        is_multipart_form(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(FORM_SCHEMA.to_owned())
    }

    fn register(registry: &mut Registry) {
        registry
            .schemas
            .entry(FORM_SCHEMA.to_owned())
            .or_insert_with(form_schema);
    }
}

/// The component name of the form's schema: generated clients name their form type after it.
pub const FORM_SCHEMA: &str = "CreateFileRequest";

/// The form's parts. That an end-to-end file takes no plaintext note is said in the document
/// with `not` (crate::api::document), which poem-openapi's schema cannot carry.
fn form_schema() -> MetaSchema {
    let text = |description| {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some(description),
            ..MetaSchema::new("string")
        }))
    };
    let flag = |description| {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some(description),
            ..MetaSchema::new("boolean")
        }))
    };
    MetaSchema {
        title: Some(FORM_SCHEMA.to_owned()),
        description: Some(
            "A file secret: the `file` part (its filename and Content-Type are kept) and the \
             JSON body's options as text parts (flags as `true` or `false`, any case).",
        ),
        required: vec!["file"],
        properties: vec![
            (
                "file",
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    description: Some(
                        "The file: up to 50 MiB (52,428,800 bytes) with an API key, 1 MB (1,000,000 bytes) without, or the tier's limit. An end-to-end file counts its encrypted bytes.",
                    ),
                    ..MetaSchema::new_with_format("string", "binary")
                })),
            ),
            (
                "secret",
                text("An optional note sent with the file (up to 1000 bytes)."),
            ),
            ("ttl", BoundedInt::<1800, 86_313_600>::schema_ref()),
            (
                "maxViews",
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    description: Some(
                        "Views before the file is destroyed: 1 to 999, or `unlimited`. Default 1.",
                    ),
                    any_of: vec![
                        BoundedInt::<1, 999>::schema_ref(),
                        MetaSchemaRef::Inline(Box::new(MetaSchema {
                            enum_items: vec!["unlimited".into()],
                            ..MetaSchema::new("string")
                        })),
                    ],
                    ..MetaSchema::ANY
                })),
            ),
            ("passphrase", text("Password the recipient must give.")),
            (
                "oneClickRetrieval",
                flag("Require a click to reveal. Default true."),
            ),
            (
                "allowDeletion",
                flag("Allow the recipient to delete it. Default true."),
            ),
            (
                "encrypted",
                flag(
                    "The file's bytes were encrypted end-to-end by the sender's client \
                     (docs/end-to-end.md): kept and returned as sent. Such a file takes no \
                     'secret' note. Default false.",
                ),
            ),
        ],
        example: Some(serde_json::json!({
            "file": "report.pdf",
            "ttl": 86400,
            "maxViews": 2,
            "passphrase": "correct horse battery staple",
        })),
        ..MetaSchema::new("object")
    }
}

impl ParsePayload for FileForm {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .ok_or(ParseMultipartError::ContentTypeRequired)?;
        let boundary =
            multer::parse_boundary(content_type).map_err(ParseMultipartError::Multipart)?;
        Ok(Self {
            form: Multipart::new(body.take()?.into_bytes_stream(), boundary),
            over_limit: request.extensions().get::<UploadOverLimit>().cloned(),
        })
    }
}

/// Whether a `Content-Type` value is `multipart/form-data` (any parameters).
pub fn is_multipart_form(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(FileForm::CONTENT_TYPE))
}

fn bad_form(reason: impl std::fmt::Display) -> NativeError {
    NativeError::hinted(
        ErrorCode::InvalidParameter,
        format!("The multipart form could not be read ({reason})."),
    )
}

/// Reads a text part of at most [`MAX_TEXT_PART`] bytes.
async fn read_text(mut field: Field<'static>, name: &str) -> Result<String, NativeError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        if bytes.len() + chunk.len() > MAX_TEXT_PART {
            return Err(NativeError::hinted(
                ErrorCode::InvalidParameter,
                format!("The '{name}' part is over {MAX_TEXT_PART} bytes."),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| {
        NativeError::hinted(
            ErrorCode::InvalidParameter,
            format!("The '{name}' part is not UTF-8 text."),
        )
    })
}

fn parse_int(value: &str, code: ErrorCode, name: &str) -> Result<i64, NativeError> {
    value
        .parse()
        .map_err(|_| NativeError::hinted(code, format!("'{name}' must be a whole number.")))
}

fn parse_flag(value: &str, name: &str) -> Result<bool, NativeError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(NativeError::hinted(
            ErrorCode::InvalidParameter,
            format!("'{name}' must be true or false."),
        ))
    }
}

/// Streams the `file` part into a new upload.
async fn receive_file(
    service: &SecretService,
    caller: &Caller,
    mut field: Field<'static>,
) -> Result<(FileUpload, FileDetails), NativeError> {
    let details = FileDetails {
        name: FileName::sanitize(field.file_name()),
        content_type: ContentType::sanitize(field.content_type().map(|mime| mime.essence_str())),
    };
    let mut upload = service.begin_file(caller).await?;
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        // Over the limit or a failing store: returning drops the upload, which discards it.
        upload.write(&chunk).await?;
    }
    Ok((upload, details))
}

impl FileForm {
    /// Reads the form, streaming the file into the blob store, and creates the secret.
    ///
    /// # Errors
    /// The dialect's error: a missing `file` part, a bad option, a file over the limit (as soon
    /// as it crosses it), an unavailable blob store. Nothing is kept when it fails.
    pub async fn create(
        self,
        service: &SecretService,
        caller: &Caller,
    ) -> Result<Created, NativeError> {
        let over_limit = self.over_limit.clone();
        match self.read_and_create(service, caller).await {
            Err(_) if over_limit.is_some_and(|over| over.is_set()) => {
                let limit = service.limits().max_secret_bytes_for(caller);
                Err(ServiceError::from(DomainError::ContentTooLarge { size: limit, limit }).into())
            }
            other => other,
        }
    }

    async fn read_and_create(
        self,
        service: &SecretService,
        caller: &Caller,
    ) -> Result<Created, NativeError> {
        let mut form = self.form;
        let mut file = None;
        let mut note = None;
        let mut options = RawOptions::default();
        while let Some(field) = form.next_field().await.map_err(bad_form)? {
            let name = field.name().unwrap_or_default().to_owned();
            match name.as_str() {
                "file" if file.is_some() => {
                    return Err(bad_form("send one 'file' part"));
                }
                "file" => {
                    // Options sent before the file are checked before any of it is stored.
                    options.clone().check(service, caller)?;
                    file = Some(receive_file(service, caller, field).await?);
                }
                "secret" => note = Some(read_text(field, &name).await?),
                "ttl" => {
                    let value = read_text(field, &name).await?;
                    options.ttl = Some(parse_int(&value, ErrorCode::InvalidTtl, &name)?);
                }
                "maxViews" => {
                    let value = read_text(field, &name).await?;
                    options.max_views = match value.as_str() {
                        "unlimited" => MaybeUndefined::Null,
                        other => MaybeUndefined::Value(parse_int(
                            other,
                            ErrorCode::InvalidMaxViews,
                            &name,
                        )?),
                    };
                }
                "passphrase" => options.passphrase = Some(read_text(field, &name).await?),
                "oneClickRetrieval" => {
                    options.one_click_retrieval =
                        Some(parse_flag(&read_text(field, &name).await?, &name)?);
                }
                "allowDeletion" => {
                    options.allow_deletion =
                        Some(parse_flag(&read_text(field, &name).await?, &name)?);
                }
                "encrypted" => {
                    options.end_to_end = parse_flag(&read_text(field, &name).await?, &name)?;
                }
                // The document lists every part; another is a client's mistake, said at once.
                _ => return Err(bad_form("send only the parts the API documents")),
            }
        }
        let Some((upload, details)) = file else {
            return Err(NativeError::hinted(
                ErrorCode::MissingSecret,
                "Include a 'file' part in the multipart form (or send JSON with 'secret').".into(),
            ));
        };
        if options.end_to_end && note.as_ref().is_some_and(|n| !n.is_empty()) {
            return Err(NativeError::hinted(
                ErrorCode::InvalidParameter,
                "An end-to-end file takes no plaintext note ('secret'): encrypt it into the file."
                    .into(),
            ));
        }
        let options = options.check(service, caller)?;
        let note = note
            .filter(|n| !n.is_empty())
            .map(|n| SecretText::parse(Some(n), MAX_NOTE_BYTES))
            .transpose()
            .map_err(|_| {
                NativeError::hinted(
                    ErrorCode::InvalidParameter,
                    format!(
                        "A note sent with a file ('secret') is limited to {MAX_NOTE_BYTES} bytes."
                    ),
                )
            })?;
        Ok(upload.finish(details, note, options, caller).await?)
    }
}
