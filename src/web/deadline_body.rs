//! A request body that must arrive whole by a deadline. tower-http's body timeout
//! restarts with every frame, so a client sending a byte every few seconds could
//! hold a connection for as long as it likes; this one counts from the request's
//! start, and the deadline is armed only when the body is first read (a GET costs
//! no timer).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

pin_project_lite::pin_project! {
    pub struct DeadlineBody<B> {
        #[pin]
        inner: B,
        started: Instant,
        limit: Duration,
        #[pin]
        sleep: Option<Sleep>,
    }
}

impl<B> DeadlineBody<B> {
    pub fn new(inner: B, limit: Duration) -> Self {
        DeadlineBody {
            inner,
            started: Instant::now(),
            limit,
            sleep: None,
        }
    }
}

/// The error a late body ends with.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let mut this = self.project();
        if this.sleep.is_none() {
            let deadline = *this.started + *this.limit;
            this.sleep.set(Some(tokio::time::sleep_until(deadline)));
        }
        if let Some(sleep) = this.sleep.as_mut().as_pin_mut() {
            if sleep.poll(cx).is_ready() {
                return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
            }
        }
        this.inner.poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};

    #[tokio::test]
    async fn a_trickle_is_cut_at_the_deadline_not_per_frame() {
        // A frame every 300 ms, forever; the deadline is 1 s in all.
        let frames = futures_util::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Some((
                Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from_static(b"x"))),
                (),
            ))
        });
        let body = DeadlineBody::new(StreamBody::new(frames), Duration::from_secs(1));
        let started = Instant::now();
        let result = body.collect().await;
        assert!(result.is_err());
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_millis(1300),
            "{took:?}"
        );
    }
}
