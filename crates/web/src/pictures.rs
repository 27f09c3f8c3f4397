//! Logo and picture uploads: a multipart form with the anti-forgery token and one image. The
//! image is recognised by its bytes (PNG, JPEG, GIF or WebP, whatever its name says), decoded
//! within limits, shrunk to fit, and re-encoded as PNG — which also drops metadata such as
//! camera location. Nothing the person sent is stored or served as it came.

use std::io::Cursor;

use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use image::{ImageFormat, ImageReader, Limits};

use crate::kit::error::AppError;
use crate::kit::session::Signed;
use crate::state::AppState;

/// The largest upload accepted, in bytes.
pub(crate) const MAX_UPLOAD: usize = 5 * 1024 * 1024;

/// A checked multipart post with one image, and who sent it.
pub(crate) struct ImageUpload {
    pub signed: Signed,
    pub bytes: Vec<u8>,
}

fn refuse(message: &str) -> Response {
    AppError::Invalid(message.to_string()).into_response()
}

fn too_large() -> Response {
    let message = "That image is larger than 5 MB. Choose a smaller one.";
    (
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        AppError::Invalid(message.into()),
    )
        .into_response()
}

impl FromRequest<AppState> for ImageUpload {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let is_multipart = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !is_multipart {
            return Err(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response());
        }
        let mut form = Multipart::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let (mut csrf, mut bytes) = (None, None);
        loop {
            let field = match form.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(too_large());
                }
                Err(_) => return Err(refuse("The upload could not be read. Please try again.")),
            };
            match field.name() {
                Some("csrf") => {
                    csrf = crate::kit::posted::multipart_text(
                        field,
                        128,
                        "The form could not be read.",
                    )
                    .await
                    .ok()
                }
                Some("image") => {
                    let data = field.bytes().await.map_err(|e| {
                        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                            too_large()
                        } else {
                            refuse("The upload could not be read. Please try again.")
                        }
                    })?;
                    bytes = Some(data.to_vec());
                }
                _ => {}
            }
        }
        signed
            .check_csrf(csrf.as_deref().unwrap_or(""))
            .map_err(IntoResponse::into_response)?;
        let bytes = bytes
            .filter(|b| !b.is_empty())
            .ok_or_else(|| refuse("Choose an image to upload."))?;
        Ok(ImageUpload { signed, bytes })
    }
}

/// Stores an uploaded image as `owner`'s picture, shrunk to fit `max` (width, height). An
/// image that cannot be used is `Invalid`, with words for the page that offered the upload.
pub(crate) async fn store(
    state: &crate::state::AppState,
    viewer: &portico_core::Viewer,
    bytes: Vec<u8>,
    owner: portico_db::pictures::Owner,
    max: (u32, u32),
    origin: &portico_db::audit::Origin,
) -> Result<(), AppError> {
    let png = normalise(bytes, max.0, max.1).await?;
    portico_db::pictures::set(&state.db, viewer, owner, Some(&png), origin).await?;
    Ok(())
}

/// Decodes an uploaded image and returns it as a PNG no larger than `max_w` × `max_h`.
/// Runs on a blocking thread: decoding is CPU work.
async fn normalise(bytes: Vec<u8>, max_w: u32, max_h: u32) -> Result<Vec<u8>, AppError> {
    tokio::task::spawn_blocking(move || normalise_now(&bytes, max_w, max_h))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
}

fn normalise_now(bytes: &[u8], max_w: u32, max_h: u32) -> Result<Vec<u8>, AppError> {
    let unusable = || {
        AppError::Invalid(
            "That file is not an image we can use. Upload a PNG, JPEG, GIF or WebP.".into(),
        )
    };
    let format = image::guess_format(bytes).map_err(|_| unusable())?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP
    ) {
        return Err(unusable());
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // A small file can claim enormous dimensions; refuse before allocating for them.
    let mut limits = Limits::default();
    limits.max_image_width = Some(8_000);
    limits.max_image_height = Some(8_000);
    limits.max_alloc = Some(128 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().map_err(|_| unusable())?;
    let small = if image.width() > max_w || image.height() > max_h {
        image.thumbnail(max_w, max_h)
    } else {
        image
    };
    let mut out = Vec::new();
    small
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([10, 20, 30]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn images_are_shrunk_to_fit_and_come_out_as_png() {
        let out = normalise_now(&png(1000, 500), 256, 256).unwrap();
        let back = image::load_from_memory(&out).unwrap();
        assert_eq!((back.width(), back.height()), (256, 128));
        assert_eq!(image::guess_format(&out).unwrap(), ImageFormat::Png);
        let small = normalise_now(&png(40, 30), 256, 256).unwrap();
        assert_eq!(image::load_from_memory(&small).unwrap().width(), 40);
    }

    #[test]
    fn anything_but_an_image_is_refused() {
        for bad in [
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec(),
            b"<html><body>hi</body></html>".to_vec(),
            b"GIF89a".to_vec(),
            png(10, 10)[..40].to_vec(),
        ] {
            assert!(matches!(
                normalise_now(&bad, 100, 100),
                Err(AppError::Invalid(_))
            ));
        }
    }
}
