package org.fedseal.it.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.fedseal.protocol.archfixture.RuleBreaker;
import org.fedseal.protocol.archfixture.internal.Helper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * README's dependency rules, enforced on the compiled classes of every module, main and test scope
 * (each module's {@code target/classes} and {@code target/test-classes}, which the reactor has built
 * before this module): the direction of module dependencies, {@code internal} packages private to
 * their module, and no Flink or Kafka types at the bottom of the stack.
 */
class ArchitectureTest {
    /** Module directory to its root package. */
    static final Map<String, String> MODULES = Map.ofEntries(
            Map.entry("he-native", "org.fedseal.he"),
            Map.entry("he-java", "org.fedseal.hejava"),
            Map.entry("fl-protocol", "org.fedseal.protocol"),
            Map.entry("kafka-local", "org.fedseal.kafkalocal"),
            Map.entry("flink-local", "org.fedseal.flinklocal"),
            Map.entry("fl-client-sdk", "org.fedseal.client"),
            Map.entry("aggregator", "org.fedseal.aggregator"),
            Map.entry("model-registry", "org.fedseal.registry"),
            Map.entry("coordinator", "org.fedseal.coordinator"),
            Map.entry("demo", "org.fedseal.demo"));

    static JavaClasses all;

    @BeforeAll
    static void importModules() {
        List<Path> dirs = new ArrayList<>();
        Path root = Path.of("..").toAbsolutePath().normalize();
        for (String module : MODULES.keySet()) {
            for (String scope : List.of("classes", "test-classes")) {
                Path dir = root.resolve(module).resolve("target").resolve(scope);
                if (scope.equals("classes") && !Files.isDirectory(dir)) {
                    throw new IllegalStateException(
                            dir + " is missing: build the modules first (mvn verify from the root)");
                }
                if (Files.isDirectory(dir)) {
                    dirs.add(dir);
                }
            }
        }
        all = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPaths(dirs);
    }

    /**
     * README: he-native, he-java and fl-protocol depend on nothing of ours; the SDK, aggregator and
     * registry on those three and never on each other; coordinator on the SDK and the registry (its
     * client), not on the aggregator; demo on all of these. kafka-local and flink-local are test
     * infrastructure: they depend on nothing of ours and anyone may start them.
     *
     * <p>Two test-scope exceptions, named here so they stay visible: he-java's tests cross-check its
     * ciphertexts against SEAL through he-native, and the registry's {@code HttpIngestTest} drives the
     * SDK's phone-side HTTP client against the real ingest endpoint.
     *
     * @param inModule which classes belong to a module (by directory name)
     */
    static ArchRule moduleDirections(Function<String, DescribedPredicate<JavaClass>> inModule) {
        // Optional layers: theRulesSeeEveryModule checks that every module was imported.
        var layers = layeredArchitecture().consideringOnlyDependenciesInLayers().withOptionalLayers(true);
        for (String module : MODULES.keySet()) {
            layers = layers.layer(module).definedBy(inModule.apply(module));
        }
        List<String> bottomUsers = List.of("fl-client-sdk", "aggregator", "model-registry", "coordinator", "demo");
        return layers.whereLayer("demo")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("coordinator")
                .mayOnlyBeAccessedByLayers("demo")
                .whereLayer("aggregator")
                .mayOnlyBeAccessedByLayers("demo")
                .whereLayer("model-registry")
                .mayOnlyBeAccessedByLayers("coordinator", "demo")
                .whereLayer("fl-client-sdk")
                .mayOnlyBeAccessedByLayers("coordinator", "demo")
                .whereLayer("fl-protocol")
                .mayOnlyBeAccessedByLayers(bottomUsers.toArray(String[]::new))
                .whereLayer("he-java")
                .mayOnlyBeAccessedByLayers(bottomUsers.toArray(String[]::new))
                .whereLayer("he-native")
                .mayOnlyBeAccessedByLayers(bottomUsers.toArray(String[]::new))
                .whereLayer("kafka-local")
                .mayOnlyBeAccessedByLayers(bottomUsers.toArray(String[]::new))
                .whereLayer("flink-local")
                .mayOnlyBeAccessedByLayers(bottomUsers.toArray(String[]::new))
                .ignoreDependency(testCodeOf("he-java"), inModule.apply("he-native"))
                .ignoreDependency(
                        DescribedPredicate.describe(
                                "the registry's HttpIngestTest",
                                c -> c.getName().startsWith("org.fedseal.registry.HttpIngestTest")),
                        inModule.apply("fl-client-sdk"));
    }

    /** The classes compiled into {@code <module>/target/classes} or {@code test-classes}. */
    static DescribedPredicate<JavaClass> builtBy(String module) {
        return DescribedPredicate.describe(
                "built by " + module, c -> location(c).contains("/" + module + "/target/"));
    }

    /** Test classes of a module: the module's own tests, not its API. */
    static DescribedPredicate<JavaClass> testCodeOf(String module) {
        return DescribedPredicate.describe(
                "tests of " + module, c -> location(c).contains("/" + module + "/target/test-classes/"));
    }

    /** Classes in the module's root package or below (how the rule-breaking fixture poses as a module). */
    static DescribedPredicate<JavaClass> inPackageOf(String module) {
        String root = MODULES.get(module);
        return DescribedPredicate.describe(
                "in " + root,
                c -> c.getPackageName().equals(root) || c.getPackageName().startsWith(root + "."));
    }

    private static String location(JavaClass c) {
        return c.getSource().map(s -> s.getUri().toString()).orElse("");
    }

    /** A module's {@code internal} packages are not API: only classes of the same module use them. */
    static ArchRule internalsOf(String root) {
        return noClasses()
                .that(outside(root))
                .should()
                .dependOnClassesThat()
                .resideInAPackage(root + ".internal..")
                .because(root + ".internal is private to its module")
                .allowEmptyShould(true);
    }

    /** The bottom of the stack runs on Android and in every process: no Flink or Kafka types. */
    static ArchRule noBrokerOrStreamTypesAtTheBottom() {
        return noClasses()
                .that()
                .resideInAnyPackage("org.fedseal.protocol..", "org.fedseal.he..", "org.fedseal.hejava..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("org.apache.flink..", "org.apache.kafka..")
                .because("fl-protocol, he-native and he-java are the bottom modules (README)");
    }

    private static DescribedPredicate<JavaClass> outside(String root) {
        return DescribedPredicate.describe(
                "are outside " + root,
                c -> !(c.getPackageName().equals(root) || c.getPackageName().startsWith(root + ".")));
    }

    @Test
    void modulesDependOneWay() {
        moduleDirections(ArchitectureTest::builtBy).check(all);
    }

    @Test
    void internalPackagesStayInTheirModule() {
        MODULES.values().forEach(root -> internalsOf(root).check(all));
    }

    @Test
    void bottomModulesHaveNoFlinkOrKafkaTypes() {
        noBrokerOrStreamTypesAtTheBottom().check(all);
    }

    /**
     * No import cycle between a module's public API and its internals: an internal class that a
     * public class uses must not use that public class back (it would make the two one unit).
     */
    static List<String> publicInternalCycles(JavaClasses classes) {
        List<String> cycles = new ArrayList<>();
        for (JavaClass a : classes) {
            if (a.getPackageName().contains(".internal")) {
                continue;
            }
            for (var d : a.getDirectDependenciesFromSelf()) {
                JavaClass b = d.getTargetClass().getBaseComponentType();
                if (b.getPackageName().equals(a.getPackageName() + ".internal")
                        && b.getDirectDependenciesFromSelf().stream()
                                .anyMatch(back -> back.getTargetClass()
                                        .getBaseComponentType()
                                        .getName()
                                        .equals(a.getName()))) {
                    cycles.add(outer(a) + " <-> " + outer(b));
                }
            }
        }
        return cycles.stream().distinct().sorted().toList();
    }

    private static String outer(JavaClass c) {
        String n = c.getName();
        return n.contains("$") ? n.substring(0, n.indexOf('$')) : n;
    }

    @Test
    void publicAndInternalClassesDoNotImportEachOther() {
        List<String> cycles = publicInternalCycles(all);
        assertTrue(cycles.isEmpty(), "import cycles between API and internals: " + cycles);
    }

    @Test
    void theRulesSeeEveryModule() {
        for (String root : MODULES.values()) {
            assertTrue(
                    all.stream().anyMatch(c -> c.getPackageName().startsWith(root)), "no classes imported for " + root);
        }
        for (String module : MODULES.keySet()) {
            assertTrue(all.stream().anyMatch(builtBy(module)), "no classes located in " + module);
        }
    }

    /** A class posing as fl-protocol code that breaks each rule: every rule must report it. */
    @Test
    void breakingARuleFailsIt() {
        JavaClasses breaker = new ClassFileImporter()
                .importClasses(
                        RuleBreaker.class,
                        Helper.class,
                        org.fedseal.registry.RegistryClient.class,
                        org.fedseal.aggregator.internal.ShardKeys.class,
                        org.apache.kafka.common.TopicPartition.class);
        assertReports(moduleDirections(ArchitectureTest::inPackageOf), breaker, "org.fedseal.registry.RegistryClient");
        assertReports(noBrokerOrStreamTypesAtTheBottom(), breaker, "org.apache.kafka.common.TopicPartition");
        assertReports(internalsOf("org.fedseal.aggregator"), breaker, "org.fedseal.aggregator.internal.ShardKeys");
        assertEquals(
                List.of(RuleBreaker.class.getName() + " <-> " + Helper.class.getName()), publicInternalCycles(breaker));
    }

    private static void assertReports(ArchRule rule, JavaClasses classes, String target) {
        EvaluationResult result = rule.evaluate(classes);
        String report = String.join("\n", result.getFailureReport().getDetails());
        assertTrue(
                result.hasViolation() && report.contains(RuleBreaker.class.getName()) && report.contains(target),
                () -> rule.getDescription() + " did not report " + RuleBreaker.class.getName() + " -> " + target + ":\n"
                        + report);
    }
}
