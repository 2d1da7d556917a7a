package io.postback.gateway.ops;

import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.status.ErrorStatus;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;

/**
 * Standard output without a write per line. Logback's ConsoleAppender writes through
 * {@code System.out}, which flushes every write: one syscall per access line, from the one logging
 * thread, for every request. This buffers instead and leaves flushing to the asynchronous appender in
 * front of it (logback.xml), which flushes at the end of each batch it drains: one write per batch, and
 * a line is never torn because the buffer is only flushed between whole events.
 */
public final class StdoutAppender<E> extends OutputStreamAppender<E> {
  private static final int BUFFER_BYTES = 64 * 1024;

  @Override
  public void start() {
    setImmediateFlush(false);
    setOutputStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), BUFFER_BYTES));
    super.start();
  }

  /** Flushes but never closes: file descriptor 1 belongs to the process, not to this appender. */
  @Override
  protected void closeOutputStream() {
    try {
      if (getOutputStream() != null) {
        getOutputStream().flush();
      }
    } catch (IOException e) {
      addStatus(new ErrorStatus("could not flush standard output", this, e));
    }
  }
}
