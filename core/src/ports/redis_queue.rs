//! The Redis queue of the distributed shape: one stream, one consumer group shared by all
//! workers, entries acknowledged when handled and reclaimed from a dead consumer after
//! [`RedisQueue::RECLAIM_IDLE`].

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamReadOptions, StreamReadReply,
};

use super::queue::{Delivery, Job, JobQueue};
use crate::error::{CoreError, CoreResult};

const GROUP: &str = "workers";

pub struct RedisQueue {
    /// Commands that return at once.
    conn: ConnectionManager,
    /// Blocking reads get their own connection so they never hold up the others.
    blocking: ConnectionManager,
    stream: String,
    consumer: String,
}

fn qerr(e: redis::RedisError) -> CoreError {
    CoreError::Queue(e.to_string())
}

/// The stream or its consumer group is gone (Redis flushed, the key deleted): NOGROUP, or
/// UNBLOCKED for a read that was blocked on the stream when it went.
fn is_gone(e: &redis::RedisError) -> bool {
    let s = e.to_string();
    s.contains("NOGROUP") || s.contains("UNBLOCKED")
}

impl RedisQueue {
    pub const RECLAIM_IDLE: Duration = Duration::from_secs(60);

    pub async fn connect(url: &str, prefix: &str, consumer: &str) -> CoreResult<Self> {
        let client = redis::Client::open(url).map_err(qerr)?;
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn = client
            .get_connection_manager_with_config(cfg.clone())
            .await
            .map_err(qerr)?;
        let blocking = client
            .get_connection_manager_with_config(cfg)
            .await
            .map_err(qerr)?;
        let q = Self {
            conn,
            blocking,
            stream: format!("{prefix}:jobs"),
            consumer: consumer.to_string(),
        };
        q.ensure_group().await?;
        Ok(q)
    }

    async fn ensure_group(&self) -> CoreResult<()> {
        let mut c = self.conn.clone();
        let r: redis::RedisResult<()> = c.xgroup_create_mkstream(&self.stream, GROUP, "0").await;
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.to_string().contains("BUSYGROUP") => Ok(()),
            Err(e) => Err(qerr(e)),
        }
    }

    fn parse(id: redis::streams::StreamId) -> Option<Delivery> {
        let raw: String = id.get("job")?;
        match serde_json::from_str::<Job>(&raw) {
            Ok(job) => Some(Delivery { id: id.id, job }),
            Err(e) => {
                tracing::warn!(entry.id = %id.id, error = %e, "dropping an unreadable queue entry");
                None
            }
        }
    }

    /// Takes over entries that another consumer read but never acknowledged.
    async fn reclaim(&self, max: usize) -> CoreResult<Vec<Delivery>> {
        let mut c = self.conn.clone();
        let r: redis::RedisResult<StreamAutoClaimReply> = c
            .xautoclaim_options(
                &self.stream,
                GROUP,
                &self.consumer,
                Self::RECLAIM_IDLE.as_millis() as usize,
                "0-0",
                StreamAutoClaimOptions::default().count(max),
            )
            .await;
        match r {
            Ok(reply) => Ok(reply.claimed.into_iter().filter_map(Self::parse).collect()),
            // Redis was flushed (or the stream deleted): nothing is pending any more. Recreate
            // the group here, because a `push` after the flush recreates only the stream (XADD
            // makes it) and would leave every worker on NOGROUP until it restarts.
            Err(e) if is_gone(&e) => {
                tracing::info!(stream = %self.stream, "the job stream or its group is gone (Redis flushed?); recreating it");
                self.ensure_group().await?;
                Ok(vec![])
            }
            Err(e) => Err(qerr(e)),
        }
    }
}

#[async_trait::async_trait]
impl JobQueue for RedisQueue {
    async fn push(&self, job: Job) -> CoreResult<()> {
        let payload = serde_json::to_string(&job).map_err(|e| CoreError::Queue(e.to_string()))?;
        let mut c = self.conn.clone();
        // After a flush, XADD recreates the stream (without the group, which `pull` recreates).
        let _: String = c
            .xadd(&self.stream, "*", &[("job", payload.as_str())])
            .await
            .map_err(qerr)?;
        Ok(())
    }

    async fn pull(&self, max: usize, wait: Duration) -> CoreResult<Vec<Delivery>> {
        let reclaimed = self.reclaim(max).await?;
        if !reclaimed.is_empty() {
            return Ok(reclaimed);
        }
        let mut opts = StreamReadOptions::default()
            .group(GROUP, &self.consumer)
            .count(max);
        let block_ms = wait.min(Duration::from_secs(2)).as_millis() as usize;
        if block_ms > 0 {
            opts = opts.block(block_ms);
        }
        let mut c = self.blocking.clone();
        let r: redis::RedisResult<Option<StreamReadReply>> =
            c.xread_options(&[&self.stream], &[">"], &opts).await;
        let reply = match r {
            Ok(r) => r,
            Err(e) if is_gone(&e) => {
                self.ensure_group().await?;
                None
            }
            Err(e) => return Err(qerr(e)),
        };
        Ok(reply
            .map(|r| {
                r.keys
                    .into_iter()
                    .flat_map(|k| k.ids)
                    .filter_map(Self::parse)
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn ack(&self, delivery: &Delivery) -> CoreResult<()> {
        let mut c = self.conn.clone();
        let _: usize = c
            .xack(&self.stream, GROUP, &[&delivery.id])
            .await
            .map_err(qerr)?;
        let _: usize = c.xdel(&self.stream, &[&delivery.id]).await.map_err(qerr)?;
        Ok(())
    }

    async fn ping(&self) -> CoreResult<()> {
        let mut c = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut c).await.map_err(qerr)?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}

#[cfg(test)]
mod tests {
    //! These need a Redis: they run when FINGERTIP_TEST_REDIS_URL is set (as in `.ci/run`'s
    //! second pass) and pass trivially otherwise. Each uses its own key prefix.
    use super::*;

    async fn queue() -> Option<(RedisQueue, ConnectionManager)> {
        let url = std::env::var("FINGERTIP_TEST_REDIS_URL")
            .ok()
            .filter(|v| !v.is_empty())?;
        let prefix = format!("test-q-{}", uuid::Uuid::new_v4().simple());
        let q = RedisQueue::connect(&url, &prefix, "consumer-1")
            .await
            .expect("Redis answers");
        let admin = redis::Client::open(url.as_str())
            .unwrap()
            .get_connection_manager()
            .await
            .unwrap();
        Some((q, admin))
    }

    /// What FLUSHDB does to this queue's keys.
    async fn flush(q: &RedisQueue, admin: &ConnectionManager) {
        let mut c = admin.clone();
        let _: usize = c.del(&q.stream).await.unwrap();
    }

    #[tokio::test]
    async fn a_read_blocked_when_the_stream_is_flushed_returns_empty() {
        let Some((q, admin)) = queue().await else {
            return;
        };
        q.push(Job::Fanout { broadcast_id: 1 }).await.unwrap();
        let got = q.pull(10, Duration::ZERO).await.unwrap();
        q.ack(&got[0]).await.unwrap();
        let (read, ()) = tokio::join!(q.pull(10, Duration::from_secs(2)), async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            flush(&q, &admin).await;
        });
        assert!(read.expect("not an error").is_empty());
        q.push(Job::Fanout { broadcast_id: 2 }).await.unwrap();
        let got = q.pull(10, Duration::ZERO).await.unwrap();
        assert_eq!(got.len(), 1, "the group is back");
        flush(&q, &admin).await;
    }

    #[tokio::test]
    async fn a_flushed_stream_is_recreated_and_jobs_pushed_after_the_flush_arrive() {
        let Some((q, admin)) = queue().await else {
            return;
        };
        q.push(Job::Fanout { broadcast_id: 1 }).await.unwrap();
        let got = q.pull(10, Duration::ZERO).await.unwrap();
        assert_eq!(got.len(), 1);

        // Flushed with nothing pushed since: pulling is not an error, just empty.
        flush(&q, &admin).await;
        assert!(q.pull(10, Duration::ZERO).await.unwrap().is_empty());

        // Flushed, then a job is pushed before any worker pulls: XADD recreates the stream but
        // not the group, and the job must still reach a worker.
        flush(&q, &admin).await;
        q.push(Job::Fanout { broadcast_id: 2 }).await.unwrap();
        let got = q.pull(10, Duration::ZERO).await.expect("no NOGROUP");
        let got = if got.is_empty() {
            q.pull(10, Duration::ZERO).await.unwrap()
        } else {
            got
        };
        assert_eq!(
            got.iter().map(|d| d.job.clone()).collect::<Vec<_>>(),
            vec![Job::Fanout { broadcast_id: 2 }]
        );
        q.ack(&got[0]).await.unwrap();
        assert!(q.pull(10, Duration::ZERO).await.unwrap().is_empty());
        flush(&q, &admin).await;
    }
}
