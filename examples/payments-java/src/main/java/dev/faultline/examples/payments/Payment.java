package dev.faultline.examples.payments;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Set;
import java.util.regex.Pattern;

/** One valid payment event, or the reason a record is not one (see README.md, "Invalid records"). */
record Payment(
        String paymentId,
        String accountId,
        long seq,
        String status,
        long amountMinor,
        String currency,
        OffsetDateTime occurredAt) {

    /** A record's value larger than this is refused before it is parsed. */
    static final int MAX_VALUE_BYTES = 64 * 1024;

    static final Set<String> STATUSES = Set.of("initiated", "authorized", "captured", "refunded", "failed", "voided");

    private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");
    private static final Pattern RFC3339 =
            Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})");
    private static final String[] TEXT_FIELDS = {"payment_id", "account_id", "status", "currency", "occurred_at"};
    private static final String[] INTEGER_FIELDS = {"seq", "amount_minor"};
    private static final String[] FIELDS = {
        "payment_id", "account_id", "seq", "status", "amount_minor", "currency", "occurred_at"
    };

    // A payment event is flat: anything nested deeper than this is refused while parsing, long before
    // a deep value (a poison pill) could exhaust the stack or the heap.
    private static final JsonMapper JSON = JsonMapper.builder(
                    new com.fasterxml.jackson.core.JsonFactoryBuilder()
                            .streamReadConstraints(StreamReadConstraints.builder()
                                    .maxNestingDepth(32)
                                    .maxNumberLength(40)
                                    .build())
                            .build())
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Either a payment or the dead-letter reason. */
    record Checked(Payment payment, String reason) {}

    static Checked check(byte[] key, byte[] value) {
        if (value == null || value.length == 0) {
            return refused("empty");
        }
        if (value.length > MAX_VALUE_BYTES) {
            return refused("oversized");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(value))
                    .toString();
        } catch (CharacterCodingException e) {
            return refused("not-utf8");
        }
        JsonNode doc;
        try {
            doc = JSON.readTree(text);
        } catch (Exception | StackOverflowError e) {
            return refused("bad-json");
        }
        if (doc == null || doc.isMissingNode()) {
            return refused("bad-json");
        }
        if (!doc.isObject()) {
            return refused("not-object");
        }
        for (String f : FIELDS) {
            if (!doc.hasNonNull(f)) {
                return refused("missing:" + f);
            }
        }
        for (String f : TEXT_FIELDS) {
            if (!doc.get(f).isTextual()) {
                return refused("type:" + f);
            }
        }
        for (String f : INTEGER_FIELDS) {
            JsonNode n = doc.get(f);
            if (!n.isIntegralNumber()) {
                return refused("type:" + f);
            }
            if (!n.canConvertToLong()) {
                return refused("value:" + f);
            }
        }
        String paymentId = doc.get("payment_id").asText();
        String accountId = doc.get("account_id").asText();
        String status = doc.get("status").asText();
        String currency = doc.get("currency").asText();
        long seq = doc.get("seq").asLong();
        long amount = doc.get("amount_minor").asLong();
        if (paymentId.isEmpty() || paymentId.length() > 64) {
            return refused("value:payment_id");
        }
        if (accountId.isEmpty() || accountId.length() > 64) {
            return refused("value:account_id");
        }
        if (seq < 1) {
            return refused("value:seq");
        }
        if (!STATUSES.contains(status)) {
            return refused("value:status");
        }
        if (amount < 0) {
            return refused("value:amount_minor");
        }
        if (!CURRENCY.matcher(currency).matches()) {
            return refused("value:currency");
        }
        String at = doc.get("occurred_at").asText();
        OffsetDateTime occurredAt;
        try {
            if (!RFC3339.matcher(at).matches()) {
                return refused("value:occurred_at");
            }
            occurredAt = OffsetDateTime.parse(at);
        } catch (DateTimeParseException e) {
            return refused("value:occurred_at");
        }
        if (key == null || !Arrays.equals(key, paymentId.getBytes(StandardCharsets.UTF_8))) {
            return refused("key-mismatch");
        }
        return new Checked(new Payment(paymentId, accountId, seq, status, amount, currency, occurredAt), null);
    }

    private static Checked refused(String reason) {
        return new Checked(null, reason);
    }
}
