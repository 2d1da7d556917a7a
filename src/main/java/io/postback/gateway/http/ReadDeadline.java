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

  /** The deadline of the request being read on one connection. */
  private static final class Clock {
    final long timeoutMs;
    ScheduledFuture<?> deadline;

    Clock(long timeoutMs) {
      this.timeoutMs = timeoutMs;
    }

    final ChannelInboundHandlerAdapter start = new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (deadline == null && msg instanceof ByteBuf bytes && bytes.isReadable()) {
          deadline = ctx.executor().schedule(() -> {
            LOG.debug("closing a connection whose request did not arrive within {} ms", timeoutMs);
            ctx.channel().close();
          }, timeoutMs, TimeUnit.MILLISECONDS);
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
      }
    };

    final ChannelInboundHandlerAdapter end = new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof LastHttpContent) {
          stop();
        }
        ctx.fireChannelRead(msg);
      }
    };

    void stop() {
      if (deadline != null) {
        deadline.cancel(false);
        deadline = null;
      }
    }
  }
}
