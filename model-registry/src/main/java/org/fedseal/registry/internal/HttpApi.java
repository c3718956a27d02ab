package org.fedseal.registry.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fedseal.protocol.ConsistencyProof;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.HttpIngest;
import org.fedseal.protocol.InclusionProof;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.ModelVersionPublished;
import org.fedseal.protocol.wire.SignedTreeHead;
import org.fedseal.registry.RegistryConfig;
import org.fedseal.registry.RoundOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API, the OpenAPI document and the web page, on the JDK's HTTP server.
 *
 * <p>The OpenAPI document ({@code openapi.json} next to this package's resources) is the contract:
 * request fields are parsed strictly against it (a field of the wrong JSON type is a 400, never
 * coerced), a method a path does not support is a 405 with {@code Allow}, and OPTIONS answers 204
 * with {@code Allow}. model-registry's OpenApiContractTest runs schemathesis against it.
 */
public final class HttpApi implements HttpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
    /** Shared JSON mapper. */
    public static final ObjectMapper JSON = new ObjectMapper();

    private record Route(String method, Pattern pattern, boolean mutating, Handler handler) {}

    private record Request(HttpExchange ex, Matcher path, Map<String, String> query) {
        String param(int i) {
            return path.group(i);
        }

        long queryLong(String name, long dflt) {
            String v = query.get(name);
            if (v == null) {
                return dflt;
            }
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw ApiException.badRequest(name + " must be an integer");
            }
        }

        long requiredQueryLong(String name) {
            if (!query.containsKey(name)) {
                throw ApiException.badRequest("query parameter " + name + " (integer) is required");
            }
            return queryLong(name, 0);
        }
    }

    private record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
        Response(int status, String contentType, byte[] body) {
            this(status, contentType, body, Map.of());
        }

        Response withHeaders(Map<String, String> extra) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.putAll(extra);
            return new Response(status, contentType, body, h);
        }

        static Response json(int status, Object value) {
            try {
                return new Response(status, "application/json", JSON.writeValueAsBytes(value));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        static Response bytes(byte[] body) {
            return new Response(200, "application/octet-stream", body);
        }
    }

    @FunctionalInterface
    private interface Handler {
        Response handle(Request r) throws IOException;
    }

    private final RegistryService svc;
    private final byte[] token;
    private final long maxBody;
    private final long maxIngestBody;
    private final UpdateIngest ingest;
    private final List<Route> routes = new ArrayList<>();

    /** Creates the API over {@code svc}, requiring {@code adminToken} on mutating endpoints. */
    public HttpApi(RegistryService svc, String adminToken, RegistryConfig config) {
        this.svc = svc;
        this.token = adminToken.getBytes(StandardCharsets.UTF_8);
        this.maxBody = Long.parseLong(config.get(RegistryConfig.MAX_BODY_BYTES));
        this.maxIngestBody = Long.parseLong(config.get(RegistryConfig.INGEST_MAX_BODY_BYTES));
        this.ingest = new UpdateIngest(svc);
        String id = "([A-Za-z0-9][A-Za-z0-9._-]{0,127})";
        String hash = "([0-9a-fA-F]{64})";
        get("/", r -> resource("web/index.html", "text/html; charset=utf-8"));
        get("/app.js", r -> resource("web/app.js", "text/javascript; charset=utf-8"));
        get("/uplot.js", r -> webjar("uplot", "dist/uPlot.iife.min.js", "text/javascript; charset=utf-8"));
        get("/uplot.css", r -> webjar("uplot", "dist/uPlot.min.css", "text/css; charset=utf-8"));
        get("/openapi.json", r -> resource("openapi.json", "application/json"));
        get("/health", r -> Response.json(200, health()));
        post("/api/models", true, this::registerModel);
        get("/api/models", r -> Response.json(200, svc.models()));
        get("/api/models/" + id, r -> Response.json(200, svc.model(r.param(1))));
        get(
                "/api/models/" + id + "/layout",
                r -> Response.bytes(svc.modelLayout(r.param(1))
                        .orElseThrow(() -> new ApiException(
                                404, "model_no_layout", "model " + r.param(1) + " was registered without a layout"))));
        add("PUT", "/api/models/" + id + "/he-public-key", true, this::putHeKey);
        get("/api/he-public-keys/" + hash, r -> Response.bytes(svc.hePublicKey(hash(r.param(1)))));
        post("/api/clients", true, this::enroll);
        get("/api/clients/" + id, r -> Response.json(200, svc.client(r.param(1))));
        post("/api/models/" + id + "/rounds", true, this::openRound);
        get("/api/models/" + id + "/rounds", r -> Response.json(200, svc.rounds(r.param(1))));
        get(
                "/api/models/" + id + "/rounds/current/record",
                r -> Response.bytes(WireCodec.UNBOUNDED.encode(svc.currentRound(r.param(1))
                        .orElseThrow(() -> ApiException.notFound("model " + r.param(1) + " has no open round")))));
        get(
                "/api/models/" + id + "/rounds/(\\d{1,9})/record",
                r -> Response.bytes(
                        WireCodec.UNBOUNDED.encode(svc.roundOpened(r.param(1), Integer.parseInt(r.param(2))))));
        post(HttpIngest.PATH, false, this::ingestUpdates);
        get(
                "/api/models/" + id + "/rounds/(\\d{1,9})",
                r -> Response.json(200, svc.round(r.param(1), Integer.parseInt(r.param(2)))));
        get(
                "/api/models/" + id + "/rounds/(\\d{1,9})/aggregate",
                r -> Response.bytes(svc.aggregateBytes(r.param(1), Integer.parseInt(r.param(2)))
                        .orElseThrow(() -> ApiException.notFound(
                                "round " + r.param(1) + "/" + r.param(2) + " has no aggregate"))));
        get("/api/models/" + id + "/rounds/(\\d{1,9})/updates", r -> {
            svc.round(r.param(1), Integer.parseInt(r.param(2)));
            return Response.json(200, svc.acceptedUpdates(r.param(1), Integer.parseInt(r.param(2))));
        });
        get(
                "/api/models/" + id + "/rounds/(\\d{1,9})/bytes",
                r -> Response.json(200, svc.roundBytes(r.param(1), Integer.parseInt(r.param(2)))));
        get(
                "/api/models/" + id + "/rounds/(\\d{1,9})/rejects",
                r -> Response.json(200, svc.rejectsByReason(r.param(1), Integer.parseInt(r.param(2)))));
        get(
                "/api/models/" + id + "/rounds/(\\d{1,9})/decryption-shares",
                r -> Response.json(200, svc.decryptionShares(r.param(1), Integer.parseInt(r.param(2)))));
        post("/api/models/" + id + "/ceremonies", true, this::openCeremony);
        get("/api/ceremonies/" + id, r -> Response.json(200, svc.ceremony(r.param(1))));
        get(
                "/api/ceremonies/" + id + "/record",
                r -> Response.bytes(WireCodec.UNBOUNDED.encode(svc.ceremonyRecord(r.param(1)))));
        post("/api/models/" + id + "/versions", false, this::publishVersion);
        get("/api/models/" + id + "/versions", r -> Response.json(200, svc.versions(r.param(1))));
        get("/api/versions/" + hash, r -> Response.json(200, svc.version(hash(r.param(1)))));
        get("/api/versions/" + hash + "/weights", r -> Response.bytes(svc.weights(hash(r.param(1)))));
        get("/api/versions/" + hash + "/evaluations", r -> Response.json(200, svc.evaluations(hash(r.param(1)))));
        post("/api/models/" + id + "/evaluations", true, this::openEvaluation);
        get("/api/models/" + id + "/evaluations", r -> Response.json(200, svc.modelEvaluations(r.param(1))));
        post("/api/models/" + id + "/rounds/(\\d{1,9})/evaluation", true, this::recordEvaluation);
        get("/api/versions/" + hash + "/record", r -> Response.bytes(svc.versionRecord(hash(r.param(1)))));
        add("PUT", "/api/versions/" + hash + "/accuracy", true, r -> {
            Double accuracy = optionalNumber(jsonBody(r), "accuracy");
            if (accuracy == null) {
                throw ApiException.badRequest("accuracy (number) is required");
            }
            return Response.json(200, svc.setAccuracy(hash(r.param(1)), accuracy));
        });
        get("/api/blobs/" + hash, r -> Response.bytes(svc.blob(hash(r.param(1)))));
        get(
                "/api/log/key",
                r -> Response.json(
                        200,
                        Map.of(
                                "publicKey",
                                b64(svc.logKey().publicKey().toX509()),
                                "fingerprint",
                                svc.logKey().publicKey().fingerprint().toHex(),
                                "logId",
                                svc.log().logId())));
        get("/api/log/sth", r -> Response.json(200, sthJson(svc.signedTreeHead())));
        get(
                "/api/log/sth/history",
                r -> Response.json(
                        200,
                        svc.treeHeadHistory().stream().map(HttpApi::sthJson).toList()));
        get("/api/log/entries", r -> {
            long start = r.queryLong("start", 0);
            long end = r.queryLong("end", start > Long.MAX_VALUE - 1000 ? Long.MAX_VALUE : start + 1000);
            return Response.json(200, svc.entries(start, end));
        });
        get("/api/log/inclusion", r -> {
            InclusionProof p = svc.inclusionProof(r.requiredQueryLong("index"), r.requiredQueryLong("treeSize"));
            return Response.json(
                    200,
                    Map.of(
                            "leafIndex",
                            p.leafIndex(),
                            "treeSize",
                            p.treeSize(),
                            "path",
                            p.path().stream().map(Hash::toHex).toList()));
        });
        get("/api/log/consistency", r -> {
            ConsistencyProof p = svc.consistencyProof(r.requiredQueryLong("first"), r.requiredQueryLong("second"));
            return Response.json(
                    200,
                    Map.of(
                            "size1",
                            p.size1(),
                            "size2",
                            p.size2(),
                            "path",
                            p.path().stream().map(Hash::toHex).toList()));
        });
        get("/api/log/lookup/" + hash, r -> {
            long idx = svc.findSubject(hash(r.param(1)), r.query().get("kind"));
            if (idx < 0) {
                throw ApiException.notFound("no log entry about " + r.param(1));
            }
            return Response.json(200, Map.of("index", idx));
        });
        get("/api/log/verify", r -> Response.json(200, svc.verifyLog()));
    }

    private void get(String path, Handler h) {
        add("GET", path, false, h);
    }

    private void post(String path, boolean mutating, Handler h) {
        add("POST", path, mutating, h);
    }

    private void add(String method, String path, boolean mutating, Handler h) {
        routes.add(new Route(method, Pattern.compile(path), mutating, h));
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        Response resp;
        try {
            resp = dispatch(ex);
        } catch (ApiException e) {
            resp = error(e.status(), e.code(), e.getMessage()).withHeaders(e.headers());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            resp = error(400, "invalid_json", e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            resp = error(400, "invalid_request", String.valueOf(e.getMessage()));
        } catch (RuntimeException | IOException e) {
            LOG.error("{} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
            resp = error(500, "internal_error", e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        try (ex) {
            if (resp.contentType() != null) {
                ex.getResponseHeaders().set("Content-Type", resp.contentType());
            }
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            resp.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
            if ("HEAD".equals(ex.getRequestMethod())) {
                ex.sendResponseHeaders(resp.status(), -1);
                return;
            }
            ex.sendResponseHeaders(resp.status(), resp.body().length == 0 ? -1 : resp.body().length);
            if (resp.body().length > 0) {
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(resp.body());
                }
            }
        }
    }

    private Response dispatch(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String requested = ex.getRequestMethod();
        String method = requested.equals("HEAD") ? "GET" : requested;
        Set<String> allowed = new LinkedHashSet<>();
        for (Route route : routes) {
            Matcher m = route.pattern().matcher(path);
            if (!m.matches()) {
                continue;
            }
            allowed.add(route.method());
            if (!route.method().equals(method)) {
                continue;
            }
            if (route.mutating()) {
                requireToken(ex);
            }
            return route.handler()
                    .handle(new Request(ex, m, query(ex.getRequestURI().getRawQuery())));
        }
        if (allowed.isEmpty()) {
            throw ApiException.notFound("no such endpoint: " + path);
        }
        String allow = allowHeader(allowed);
        if (requested.equals("OPTIONS")) {
            return new Response(204, null, new byte[0], Map.of("Allow", allow));
        }
        throw ApiException.methodNotAllowed(requested + " not allowed on " + path + " (allowed: " + allow + ")", allow);
    }

    /** The {@code Allow} value of a resource: its methods, HEAD with GET, and OPTIONS. */
    private static String allowHeader(Set<String> methods) {
        List<String> out = new ArrayList<>();
        for (String m : List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")) {
            if (methods.contains(m) || (m.equals("HEAD") && methods.contains("GET"))) {
                out.add(m);
            }
        }
        out.add("OPTIONS");
        return String.join(", ", out);
    }

    private void requireToken(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null || !auth.startsWith("Bearer ")) {
            throw new ApiException(401, "unauthorized", "this endpoint needs 'Authorization: Bearer <token>'");
        }
        byte[] given = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, token)) {
            throw new ApiException(403, "forbidden", "wrong bearer token");
        }
    }

    // ------------------------------------------------------------ handlers

    private Response registerModel(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        if (b.has("weightsBase64") == b.has("weights")) {
            throw ApiException.badRequest(
                    "exactly one of weightsBase64 (float32 little-endian, base64) and weights (array of numbers) is required");
        }
        byte[] weights;
        if (b.has("weightsBase64")) {
            weights = base64(text(b, "weightsBase64"), "weightsBase64");
        } else {
            JsonNode arr = b.get("weights");
            if (!arr.isArray()) {
                throw ApiException.badRequest("weights must be an array of numbers");
            }
            ByteBuffer buf = ByteBuffer.allocate(arr.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < arr.size(); i++) {
                JsonNode n = arr.get(i);
                if (!n.isNumber()) {
                    throw ApiException.badRequest("weights[" + i + "] is not a number");
                }
                // Checked as a double: a value past the float32 range must be refused, not rounded to ±MAX_VALUE or
                // ±Inf.
                double d = n.doubleValue();
                if (!(Math.abs(d) <= Float.MAX_VALUE)) {
                    throw ApiException.badRequest(
                            "weights[" + i + "] is " + d + ", outside the float32 range (as float32: " + (float) d
                                    + "): model values must be finite");
                }
                buf.putFloat((float) d);
            }
            weights = buf.array();
        }
        String layout = optionalText(b, "layoutBase64");
        Double epsilonBudget = optionalNumber(b, "epsilonBudget");
        Double delta = optionalNumber(b, "delta");
        if ((epsilonBudget == null) != (delta == null)) {
            throw ApiException.badRequest("a privacy budget needs both epsilonBudget and delta");
        }
        if (epsilonBudget != null) {
            return Response.json(
                    201,
                    svc.registerModel(
                            text(b, "modelId"),
                            text(b, "architecture"),
                            text(b, "heParamsId"),
                            weights,
                            optionalText(b, "keyHolderId"),
                            layout == null ? null : base64(layout, "layoutBase64"),
                            epsilonBudget,
                            delta));
        }
        return Response.json(
                201,
                svc.registerModel(
                        text(b, "modelId"),
                        text(b, "architecture"),
                        text(b, "heParamsId"),
                        weights,
                        optionalText(b, "keyHolderId"),
                        layout == null ? null : base64(layout, "layoutBase64")));
    }

    private Response putHeKey(Request r) throws IOException {
        byte[] body = body(r);
        String ct = r.ex().getRequestHeaders().getFirst("Content-Type");
        byte[] key = ct != null && ct.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")
                ? base64(text(jsonObject(body), "publicKeyBase64"), "publicKeyBase64")
                : body;
        Hash h = svc.putHePublicKey(r.param(1), key);
        return Response.json(201, Map.of("modelId", r.param(1), "hash", h.toHex(), "bytes", key.length));
    }

    private Response enroll(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        String clientId = text(b, "clientId");
        byte[] key = base64(text(b, "publicKey"), "publicKey");
        List<String> models = optionalTextArray(b, "modelIds");
        boolean published = svc.enrollClient(clientId, key, models == null ? List.of() : models);
        Map<String, Object> out = new LinkedHashMap<>(svc.client(clientId));
        out.put("published", published);
        return Response.json(201, out);
    }

    /** Largest deadlineSeconds: now + seconds × 1000 must stay a valid epoch-millis long. */
    private static final long MAX_DEADLINE_SECONDS = 9_000_000_000_000_000L;

    /** The required quorum of an open-round body. */
    private static int quorum(JsonNode b) {
        Integer quorum = optionalInt(b, "quorum");
        if (quorum == null) {
            throw ApiException.badRequest("quorum (integer) is required");
        }
        return quorum;
    }

    /** The deadline (epoch ms) of an open-round body: exactly one of deadlineEpochMillis and deadlineSeconds. */
    private static long deadline(JsonNode b) {
        if (b.has("deadlineEpochMillis") == b.has("deadlineSeconds")) {
            throw ApiException.badRequest("exactly one of deadlineEpochMillis and deadlineSeconds is required");
        }
        if (b.has("deadlineEpochMillis")) {
            return requiredLong(b, "deadlineEpochMillis");
        }
        long seconds = requiredLong(b, "deadlineSeconds");
        if (seconds < 1 || seconds > MAX_DEADLINE_SECONDS) {
            throw ApiException.badRequest("deadlineSeconds must be in [1, " + MAX_DEADLINE_SECONDS + "]");
        }
        return System.currentTimeMillis() + seconds * 1000;
    }

    private Response openRound(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        int quorum = quorum(b);
        long deadline = deadline(b);
        Integer localEpochs = optionalInt(b, "localEpochs");
        Integer ciphertextsPerChunk = optionalInt(b, "ciphertextsPerChunk");
        return Response.json(
                201,
                svc.openRound(
                        r.param(1),
                        quorum,
                        deadline,
                        localEpochs == null ? 1 : localEpochs,
                        ciphertextsPerChunk == null ? 6 : ciphertextsPerChunk,
                        optionalNumber(b, "clipNorm"),
                        optionalLong(b, "maxTotalWeight"),
                        optionalLong(b, "maxUpdateWeight"),
                        roundOptions(b)));
    }

    /** The round configuration and sampling fields of an openRound body (absent: RoundOptions.DEFAULT's). */
    private static RoundOptions roundOptions(JsonNode b) {
        Double lr = optionalNumber(b, "learningRate");
        Integer batch = optionalInt(b, "batchSize");
        Double mu = optionalNumber(b, "proximalMu");
        Double fraction = optionalNumber(b, "samplingFraction");
        Integer min = optionalInt(b, "minSampledClients");
        RoundOptions d = RoundOptions.DEFAULT;
        try {
            return new RoundOptions(
                    lr == null ? d.learningRate() : lr,
                    batch == null ? d.batchSize() : batch,
                    mu == null ? d.proximalMu() : mu,
                    fraction == null ? d.samplingFraction() : fraction,
                    min == null ? d.minSampledClients() : min,
                    java.util.Objects.requireNonNullElse(optionalNumber(b, "noiseMultiplier"), d.noiseMultiplier()),
                    java.util.Objects.requireNonNullElse(optionalNumber(b, "clipValue"), d.clipValue()),
                    java.util.Objects.requireNonNullElse(optionalInt(b, "maskScaleBits"), d.maskScaleBits()));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    /** Opens a federated evaluation round of a version (the latest if {@code versionHash} is absent). */
    private Response openEvaluation(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        int quorum = quorum(b);
        long deadline = deadline(b);
        String version = optionalText(b, "versionHash");
        return Response.json(
                201,
                svc.openEvaluationRound(
                        r.param(1),
                        version == null ? null : hash(version).toHex(),
                        quorum,
                        deadline,
                        optionalNumber(b, "lossBound"),
                        optionalLong(b, "maxTotalWeight"),
                        optionalLong(b, "maxUpdateWeight")));
    }

    /** Records the federated metrics decrypted from an evaluation round's aggregate. */
    private Response recordEvaluation(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        Double loss = optionalNumber(b, "loss");
        if (loss == null) {
            throw ApiException.badRequest("loss (number) is required");
        }
        return Response.json(
                201,
                svc.recordEvaluation(
                        r.param(1),
                        Integer.parseInt(r.param(2)),
                        hash(text(b, "aggregateHash")).toHex(),
                        requiredLong(b, "examples"),
                        optionalNumber(b, "accuracy"),
                        loss,
                        text(b, "recordedBy")));
    }

    private Response openCeremony(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        List<String> holders = b.has("holderIds") ? optionalTextArray(b, "holderIds") : null;
        if (holders == null) {
            throw ApiException.badRequest("holderIds (array of enrolled client ids) is required");
        }
        return Response.json(201, svc.openCeremony(r.param(1), optionalText(b, "ceremonyId"), holders));
    }

    private Response ingestUpdates(Request r) throws IOException {
        byte[] body;
        try (InputStream in = r.ex().getRequestBody()) {
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxIngestBody + 1));
        }
        if (body.length > maxIngestBody) {
            throw new ApiException(413, "too_large", "ingest request body exceeds " + maxIngestBody + " bytes");
        }
        var h = r.ex().getRequestHeaders();
        return Response.json(
                202,
                ingest.ingest(
                        h.getFirst("Content-Type"),
                        h.getFirst(HttpIngest.HEADER_CLIENT),
                        h.getFirst(HttpIngest.HEADER_SIGNATURE),
                        body));
    }

    private Response publishVersion(Request r) throws IOException {
        JsonNode b = jsonBody(r);
        byte[] record = base64(text(b, "record"), "record");
        String publisherId = text(b, "publisherId");
        byte[] weights = base64(text(b, "weightsBase64"), "weightsBase64");
        String state = optionalText(b, "optimizerStateBase64");
        byte[] optimizerState = state == null ? new byte[0] : base64(state, "optimizerStateBase64");
        Double acc = optionalNumber(b, "accuracy");
        String recordModel;
        try {
            recordModel = WireCodec.UNBOUNDED
                    .decode(record, ModelVersionPublished.class)
                    .getModelId()
                    .toString();
        } catch (WireFormatException e) {
            throw ApiException.badRequest("record is not a ModelVersionPublished: " + e.getMessage());
        }
        // Checked before publishing: a version of another model must not be stored under a 400.
        if (!recordModel.equals(r.param(1))) {
            throw ApiException.badRequest("record is for model " + recordModel + ", not " + r.param(1));
        }
        return Response.json(201, svc.publishVersion(record, publisherId, weights, optimizerState, acc));
    }

    private Map<String, Object> health() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", svc.integrityProblem() == null ? "ok" : "integrity_problem");
        if (svc.integrityProblem() != null) {
            m.put("problem", svc.integrityProblem());
        }
        m.put("logSize", svc.log().size());
        return m;
    }

    /** JSON form of a tree head: fields plus the signed Avro record in base64. */
    public static Map<String, Object> sthJson(SignedTreeHead h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("logId", h.getLogId());
        m.put("treeSize", h.getTreeSize());
        m.put("rootHash", Hash.of(h.getRootHash()).toHex());
        m.put("timestampEpochMillis", h.getTimestampEpochMillis());
        m.put("signature", b64(bytes(h.getSignature())));
        m.put("record", b64(WireCodec.UNBOUNDED.encode(h)));
        return m;
    }

    // ------------------------------------------------------------ helpers

    private Response resource(String name, String type) throws IOException {
        try (InputStream in = HttpApi.class.getResourceAsStream("/org/fedseal/registry/" + name)) {
            if (in == null) {
                throw ApiException.notFound(name);
            }
            return new Response(200, type, in.readAllBytes());
        }
    }

    /** A file of a WebJar on the class path (its version read from the jar's Maven metadata), e.g. uPlot. */
    private static Response webjar(String name, String file, String type) throws IOException {
        String version;
        try (InputStream props =
                HttpApi.class.getResourceAsStream("/META-INF/maven/org.webjars.npm/" + name + "/pom.properties")) {
            if (props == null) {
                throw ApiException.notFound("WebJar " + name + " is not on the class path");
            }
            java.util.Properties p = new java.util.Properties();
            p.load(props);
            version = p.getProperty("version");
        }
        try (InputStream in =
                HttpApi.class.getResourceAsStream("/META-INF/resources/webjars/" + name + "/" + version + "/" + file)) {
            if (in == null) {
                throw ApiException.notFound(name + "/" + file);
            }
            return new Response(200, type, in.readAllBytes());
        }
    }

    private static Response error(int status, String code, String message) {
        ObjectNode n = JSON.createObjectNode();
        n.put("code", code);
        n.put("message", message);
        return Response.json(status, n);
    }

    private byte[] body(Request r) throws IOException {
        try (InputStream in = r.ex().getRequestBody()) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBody + 1));
            if (b.length > maxBody) {
                throw new ApiException(413, "too_large", "request body exceeds " + maxBody + " bytes");
            }
            return b;
        }
    }

    private JsonNode jsonBody(Request r) throws IOException {
        return jsonObject(body(r));
    }

    private static JsonNode jsonObject(byte[] b) throws IOException {
        if (b.length == 0) {
            throw ApiException.badRequest("a JSON body is required");
        }
        JsonNode n = JSON.readTree(b);
        if (n == null || !n.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object");
        }
        return n;
    }

    // Request fields are parsed strictly, as openapi.json describes them: a value of the wrong JSON
    // type is a 400, never coerced (a number where a string belongs, 2.5 where an integer belongs).
    // An optional field that is absent or null takes its default.

    private static String text(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull() || !n.isTextual() || n.asText().isEmpty()) {
            throw ApiException.badRequest(field + " (string) is required");
        }
        return n.asText();
    }

    private static String optionalText(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw ApiException.badRequest(field + " must be a string");
        }
        return n.asText();
    }

    private static List<String> optionalTextArray(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isArray()) {
            throw ApiException.badRequest(field + " must be an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw ApiException.badRequest(field + " must be an array of strings");
            }
            out.add(e.asText());
        }
        return out;
    }

    /** An integer in the long range, written without fraction or exponent (2.0 is not an integer here). */
    private static long requiredLong(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ApiException.badRequest(field + " must be an integer");
        }
        return n.asLong();
    }

    private static Long optionalLong(JsonNode b, String field) {
        JsonNode n = b.get(field);
        return n == null || n.isNull() ? null : requiredLong(b, field);
    }

    private static Integer optionalInt(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw ApiException.badRequest(
                    field + " must be an integer in [" + Integer.MIN_VALUE + ", " + Integer.MAX_VALUE + "]");
        }
        return n.asInt();
    }

    private static Double optionalNumber(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isNumber() || !Double.isFinite(n.doubleValue())) {
            throw ApiException.badRequest(field + " must be a finite number");
        }
        return n.doubleValue();
    }

    /** Standard base64 with padding (RFC 4648 §4), nothing else: no whitespace, no URL alphabet. */
    private static byte[] base64(String s, String field) {
        if (s.length() % 4 != 0) {
            throw ApiException.badRequest(field + " is not valid base64 (padded, standard alphabet)");
        }
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(field + " is not valid base64 (padded, standard alphabet)");
        }
    }

    private static Hash hash(String hex) {
        return Hash.fromHex(hex.toLowerCase(java.util.Locale.ROOT));
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw == null) {
            return q;
        }
        for (String part : raw.split("&")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                q.put(
                        URLDecoder.decode(part.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return q;
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
