package io.postback.gateway.limit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenBucketTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void severalTokensAreTakenAllOrNoneAndTheWaitCoversTheShortfall() {
    TokenBucket bucket = new TokenBucket(10, 20);
    long t = System.nanoTime();
    assertThat(bucket.take(15, t)).isZero();
    // 5 left: 12 cannot be taken, and nothing is taken by trying.
    long wait = bucket.take(12, t);
    assertThat(wait).isEqualTo(700_000_000L);
    assertThat(bucket.take(5, t)).isZero();
    assertThat(bucket.take(1, t)).isPositive();
    // A second refills 10.
    assertThat(bucket.take(10, t + SECOND)).isZero();
  }

  @Test
  void refillNeverExceedsTheBurst() {
    TokenBucket bucket = new TokenBucket(100, 3);
    long t = System.nanoTime();
    assertThat(bucket.take(3, t + 60 * SECOND)).isZero();
    assertThat(bucket.take(1, t + 60 * SECOND)).isPositive();
  }

  @Test
  void moreThanTheBurstCanNeverBeTaken() {
    TokenBucket bucket = new TokenBucket(1, 5);
    assertThatThrownBy(() -> bucket.take(6, System.nanoTime())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void retryAfterRoundsUpToWholeSecondsAndIsAtLeastOne() {
    assertThat(TokenBucket.retryAfterSeconds(1)).isEqualTo(1);
    assertThat(TokenBucket.retryAfterSeconds(SECOND)).isEqualTo(1);
    assertThat(TokenBucket.retryAfterSeconds(SECOND + 1)).isEqualTo(2);
    assertThat(TokenBucket.retryAfterSeconds(Long.MAX_VALUE)).isPositive();
  }

  @Test
  void keyedBucketsStayWithinTheirBoundWhateverTheNumberOfKeys() {
    KeyedBuckets buckets = new KeyedBuckets(1, 1, 1_000);
    for (int i = 0; i < 50_000; i++) {
      buckets.take("203.0." + (i >> 8) + "." + (i & 0xff));
    }
    assertThat(buckets.size()).isLessThanOrEqualTo(1_000);
    // Each key has a bucket of its own: a fresh key is served, a repeated one (bucket of 1, just used) is not.
    assertThat(buckets.take("198.51.100.1")).isZero();
    assertThat(buckets.take("198.51.100.1")).isPositive();
  }

  @Test
  void aZeroRateMeansUnlimitedAndStoresNothing() {
    KeyedBuckets buckets = new KeyedBuckets(0, 1, 10);
    for (int i = 0; i < 100; i++) {
      assertThat(buckets.take("same")).isZero();
    }
    assertThat(buckets.size()).isZero();
  }
}
