package org.fedseal.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.fedseal.protocol.Hash;
import org.fedseal.protocol.ModelWeights;
import org.junit.jupiter.api.Test;

class BaseModelTest {
    @Test
    void weightsRoundTripAndVersionVerification() throws Exception {
        float[] w = {1.5f, -0.0f, Float.MIN_VALUE, 3e7f};
        byte[] b = ModelWeights.encode(w);
        assertEquals(16, b.length);
        assertArrayEquals(w, ModelWeights.decode(b));
        assertEquals(Hash.sha256(b), ModelWeights.hash(w));
        assertThrows(IllegalArgumentException.class, () -> ModelWeights.decode(new byte[] {1, 2, 3}));
        BaseModel m = BaseModel.initial("m", w, 5);
        m.verify(m.versionHash());
        SubmissionException e = assertThrows(SubmissionException.class, () -> m.verify(Hash.sha256(new byte[0])));
        assertEquals(SubmissionException.Reason.WRONG_BASE_MODEL, e.reason());
    }

    @Test
    void aBaseModelWithNonFiniteWeightsIsRefusedEvenWhenItsHashesMatch() {
        BaseModel poisoned = BaseModel.initial("m", new float[] {1, 2, Float.POSITIVE_INFINITY}, 5);
        SubmissionException e = assertThrows(SubmissionException.class, () -> poisoned.verify(poisoned.versionHash()));
        assertEquals(SubmissionException.Reason.WRONG_BASE_MODEL, e.reason());
        assertTrue(e.getMessage().contains("[2]"), e.getMessage());
    }
}
