package io.postback.gateway.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes an HTTP/1.x connection whose request does not arrive in time: from the first byte of a request
 * to the last byte of its body at most {@code timeout}. A client trickling its head or body a byte at a
 * time (slowloris) keeps the idle timeout from ever firing, but not this deadline. Between requests a
 * connection is idle and only the idle timeout applies, so keep-alive is unaffected.
 *
 * <p>Vert.x has no such setting, so this watches the connection's Netty pipeline: one handler in front of
 * the HTTP decoder sees the first bytes of a request (and starts the clock), one behind it sees the end
 * of its body (and stops it). Reaching the pipeline takes Vert.x' internal {@link ConnectionBase}; a
 * connection without it (another Vert.x version) or without an HTTP/1.x decoder is left alone, with one
 * warning in the log.
 */
public final class ReadDeadline {
  private static final Logger LOG = LoggerFactory.getLogger(ReadDeadline.class);
  private static final String DECODER = "httpDecoder";
  private static volatile boolean warned;

  private ReadDeadline() {
  }

  /** Watches one connection; call from the server's connection handler. */
  public static void install(HttpConnection connection, Duration timeout) {
    ChannelPipeline pipeline = connection instanceof ConnectionBase base ? base.channelHandlerContext().pipeline() : null;
    if (pipeline == null || pipeline.get(DECODER) == null) {
      if (!warned) {
        warned = true;
        LOG.warn("cannot watch the read deadline of {} connections; only the idle timeout applies to them",
            connection.getClass().getSimpleName());
      }
      return;
    }
    Clock clock = new Clock(timeout.toMillis());
    pipeline.addBefore(DECODER, "readDeadlineStart", clock.start);
    pipeline.addAfter(DECODER, "readDeadlineEnd", clock.end);
  }

  /**
   * The deadline of the request being read on one connection. One timer per connection, not one per
   * request: the timer checks when it fires whether a request has been reading for too long, and re-arms
   * for the request in progress, so a busy keep-alive connection schedules about one timer per timeout
   * period instead of scheduling and cancelling one for every request.
   */
  private static final class Clock {
    final long timeoutNanos;
    boolean reading;         // between the first byte of a request and the end of its body
    long readingSince;       // System.nanoTime() of that first byte
    ScheduledFuture<?> timer;

    Clock(long timeoutMs) {
      this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    }

    final ChannelInboundHandlerAdapter start = new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!reading && msg instanceof ByteBuf bytes && bytes.isReadable()) {
          reading = true;
          readingSince = System.nanoTime();
          if (timer == null) {
            arm(ctx, timeoutNanos);
          }
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
          timer.cancel(false);
          timer = null;
        }
        ctx.fireChannelInactive();
      }
    };

    final ChannelInboundHandlerAdapter end = new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof LastHttpContent) {
          reading = false;
        }
        ctx.fireChannelRead(msg);
      }
    };

    private void arm(ChannelHandlerContext ctx, long delayNanos) {
      timer = ctx.executor().schedule(() -> check(ctx), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check(ChannelHandlerContext ctx) {
      timer = null;
      if (!reading) {
        return;   // idle between requests: the next request arms the timer again
      }
      long elapsed = System.nanoTime() - readingSince;
      if (elapsed >= timeoutNanos) {
        LOG.debug("closing a connection whose request did not arrive within {} ms", TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
        ctx.channel().close();
      } else {
        arm(ctx, timeoutNanos - elapsed);
      }
    }
  }
}
