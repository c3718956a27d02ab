package org.fedseal.protocol.archfixture.internal;

import org.fedseal.protocol.archfixture.RuleBreaker;

/** Test fixture for {@code ArchitectureTest}: an internal class that calls its public user back. */
public final class Helper {
    private Helper() {}

    /** Uses the public class that uses it: an API/internal import cycle. */
    public static String help() {
        return RuleBreaker.name();
    }
}
