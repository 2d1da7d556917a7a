package io.postback.gateway.ids;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One id form: a prefix, then 26 Crockford base-32 characters, time first. */
class IdsTest {
  private static final String FORM = "[0-9a-hjkmnp-tv-z]{26}";

  @Test
  void timeOrderedIdsHaveTheOneFormAndSortByTime() throws InterruptedException {
    String first = Ids.timeOrdered("evt");
    Thread.sleep(2);
    String second = Ids.timeOrdered("evt");

    assertThat(first).matches("evt_" + FORM);
    assertThat(second.substring(0, 14)).isGreaterThan(first.substring(0, 14));
  }

  @Test
  void aDerivedIdIsTheSameEveryTimeAndSharesItsParentsTime() {
    String report = Ids.timeOrdered("rpt");

    String batch1 = Ids.derived("evt", report, 1);

    assertThat(batch1).matches("evt_" + FORM).isEqualTo(Ids.derived("evt", report, 1));
    assertThat(Ids.derived("evt", report, 2)).isNotEqualTo(batch1);
    assertThat(batch1.substring(4, 14)).isEqualTo(report.substring(4, 14));
    assertThatThrownBy(() -> Ids.derived("evt", "rpt_short", 1)).isInstanceOf(IllegalArgumentException.class);
  }
}
