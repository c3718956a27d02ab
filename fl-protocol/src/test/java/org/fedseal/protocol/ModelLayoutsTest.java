package org.fedseal.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.fedseal.protocol.wire.DjlParamsTemplate;
import org.fedseal.protocol.wire.ModelLayout;
import org.junit.jupiter.api.Test;

class ModelLayoutsTest {
    static ModelLayout mlp(DjlParamsTemplate djl) {
        return ModelLayout.newBuilder()
                .setTensors(List.of(
                        ModelLayouts.tensor("01Linear_weight", 3, 4),
                        ModelLayouts.tensor("01Linear_bias", 3),
                        ModelLayouts.tensor("scale")))
                .setArchitecture("test")
                .setDjl(djl)
                .build();
    }

    static DjlParamsTemplate template(long... offsets) {
        return DjlParamsTemplate.newBuilder()
                .setInputs(ByteBuffer.wrap(new byte[4]))
                .setBlockParameters(ByteBuffer.wrap(new byte[10]))
                .setDataOffsets(java.util.Arrays.stream(offsets).boxed().toList())
                .setLittleEndian(true)
                .build();
    }

    @Test
    void countsAndRoundTrips() throws Exception {
        ModelLayout l = mlp(template(2, 5, 10));
        assertEquals(16, ModelLayouts.parameterCount(l));
        assertEquals(l, ModelLayouts.validate(l, 16));
        byte[] bytes = ModelLayouts.encode(l);
        assertEquals(l, ModelLayouts.decode(bytes));
        assertArrayEquals(bytes, ModelLayouts.encode(ModelLayouts.decode(bytes)));
        assertEquals(7, ModelLayouts.parameterCount(ModelLayouts.flat(7)));
    }

    @Test
    void refusesLayoutsThatDoNotFitTheModel() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ModelLayouts.validate(mlp(null), 17));
        assertTrue(e.getMessage().contains("hold 16 values, the model has 17"), e.getMessage());
        ModelLayout twice = ModelLayout.newBuilder()
                .setTensors(List.of(ModelLayouts.tensor("a", 2), ModelLayouts.tensor("a", 2)))
                .build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelLayouts.validate(twice, 4))
                .getMessage()
                .contains("twice"));
        ModelLayout reserved = ModelLayout.newBuilder()
                .setTensors(List.of(ModelLayouts.tensor("__metadata__", 2)))
                .build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelLayouts.validate(reserved, 2))
                .getMessage()
                .contains("reserved"));
        ModelLayout zero = ModelLayout.newBuilder()
                .setTensors(List.of(ModelLayouts.tensor("a", 2, 0)))
                .build();
        assertThrows(IllegalArgumentException.class, () -> ModelLayouts.validate(zero, 0));
        ModelLayout huge = ModelLayout.newBuilder()
                .setTensors(List.of(ModelLayouts.tensor("a", 1L << 40, 1L << 40)))
                .build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelLayouts.validate(huge, 1))
                .getMessage()
                .contains("overflow"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelLayouts.validate(mlp(template(2, 5)), 16))
                .getMessage()
                .contains("2 data offsets for 3 tensors"));
        assertTrue(assertThrows(
                        IllegalArgumentException.class, () -> ModelLayouts.validate(mlp(template(5, 2, 10)), 16))
                .getMessage()
                .contains("non-decreasing"));
        assertThrows(IllegalArgumentException.class, () -> ModelLayouts.validate(mlp(template(2, 5, 11)), 16));
    }

    @Test
    void garbageIsAWireFormatException() {
        assertThrows(
                WireFormatException.class,
                () -> ModelLayouts.decode(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 1}));
        byte[] ok = ModelLayouts.encode(mlp(null));
        assertThrows(WireFormatException.class, () -> ModelLayouts.decode(java.util.Arrays.copyOf(ok, ok.length + 1)));
    }
}
