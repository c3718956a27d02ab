package org.fedseal.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fedseal.client.RoundListener;
import org.fedseal.client.SubmissionException;
import org.fedseal.client.SubmissionReceipt;
import org.fedseal.protocol.wire.AggregatePublished;
import org.fedseal.protocol.wire.RoundOpened;
import org.junit.jupiter.api.Test;

/** Clients that listen for round announcements on Kafka take part without being driven. */
class ListenerModeIT {
    @Test
    void listeningClientsJoinAnAnnouncedRound() throws Exception {
        try (Scenario s = new Scenario(SharedDeployment.get(), "it-listener", new float[FaultsIT.PARAMS])) {
            List<float[]> deltas = new ArrayList<>();
            CountDownLatch submitted = new CountDownLatch(3);
            List<String> failures = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                float[] delta = Updates.delta(FaultsIT.PARAMS, 0.01, 500 + c);
                deltas.add(delta);
                s.client("listener-" + c, new FixedDeltaTrainer(delta, FaultsIT.WEIGHT))
                        .startListening(new RoundListener() {
                            @Override
                            public void onSubmitted(RoundOpened round, SubmissionReceipt receipt) {
                                submitted.countDown();
                            }

                            @Override
                            public void onFailed(RoundOpened round, SubmissionException e) {
                                failures.add(e.toString());
                            }
                        });
            }
            RoundOpened round = s.open(3, Duration.ofMinutes(2));
            assertTrue(submitted.await(90, TimeUnit.SECONDS), "all three listeners submitted; failures: " + failures);
            AggregatePublished agg = s.aggregate(round.getRound(), Duration.ofMinutes(1));
            FaultsIT.assertDecryptsTo(s, agg, deltas);
            assertEquals(List.of(), failures);
        }
    }
}
