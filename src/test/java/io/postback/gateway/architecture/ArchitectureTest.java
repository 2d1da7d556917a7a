package io.postback.gateway.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * Dependencies point down: the packages form no cycle, and the directions that hold the layout
 * together are written here, so a change that reverses one fails the build rather than a review.
 */
@AnalyzeClasses(packages = "io.postback.gateway", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  private static final String ROOT = "io.postback.gateway";

  /**
   * The lower packages and the only gateway packages each may import. Domain types ({@code conversion})
   * and infrastructure (ids, network ranges, text limits, metrics) are leaves; the rest of the code,
   * above them, may import them freely.
   */
  private static final Map<String, Set<String>> LOWER = Map.ofEntries(
      Map.entry("conversion", Set.of()),
      Map.entry("ids", Set.of()),
      Map.entry("net", Set.of()),
      Map.entry("text", Set.of()),
      Map.entry("metrics", Set.of("conversion")),
      Map.entry("embedded", Set.of()),
      Map.entry("redis", Set.of("metrics")),
      // A batched item that fails is answered like any request: with an ApiError.
      Map.entry("batch", Set.of("http", "net", "text", "conversion")),
      Map.entry("http", Set.of("net", "text", "conversion")),
      Map.entry("config", Set.of("net")),
      Map.entry("events", Set.of("ids", "conversion")));

  @ArchTest
  static final ArchRule packagesAreFreeOfCycles = slices().matching(ROOT + ".(*)..").should().beFreeOfCycles();

  @ArchTest
  static void lowerPackagesImportOnlyWhatTheyAreAllowed(JavaClasses classes) {
    LOWER.forEach((pkg, allowed) -> {
      String[] permitted = Stream.concat(Set.of(pkg).stream(), allowed.stream())
          .map(p -> ROOT + "." + p + "..").toArray(String[]::new);
      noClasses().that().resideInAPackage(ROOT + "." + pkg + "..")
          .should().dependOnClassesThat(resideInAnyPackage(ROOT + "..").and(not(resideInAnyPackage(permitted))))
          .because(pkg + " may import only " + (allowed.isEmpty() ? "no other gateway package" : allowed))
          .check(classes);
    });
  }

  /** The assembly (Main, Gateway, HttpVerticle) wires everything; nothing reaches back up into it. */
  @ArchTest
  static final ArchRule nothingImportsTheAssembly = noClasses()
      .that().resideOutsideOfPackage(ROOT)
      .should().dependOnClassesThat().resideInAPackage(ROOT);

  /**
   * The admin API sits on top: only the assembly mounts it, and the integrator portal, an API at the same
   * level, which mounts the admin's endpoint, delivery and postback-log routes behind its scope check.
   */
  @ArchTest
  static final ArchRule onlyTheAssemblyImportsAdmin = noClasses()
      .that().resideOutsideOfPackages(ROOT, ROOT + ".admin..", ROOT + ".portal..")
      .should().dependOnClassesThat().resideInAPackage(ROOT + ".admin..");

  /** The delivery side reads the outbox and the retry queue; it knows nothing of how events arose. */
  @ArchTest
  static final ArchRule deliveryDoesNotReachIntoIngestOrReports = noClasses()
      .that().resideInAPackage(ROOT + ".delivery..")
      .should().dependOnClassesThat().resideInAnyPackage(ROOT + ".ingest..", ROOT + ".report..",
          ROOT + ".admin..", ROOT + ".attribution..", ROOT + ".click..", ROOT + ".store..");
}
