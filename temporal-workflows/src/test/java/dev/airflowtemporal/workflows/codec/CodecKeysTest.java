package dev.airflowtemporal.workflows.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class CodecKeysTest {
  private final EncryptedPayloadFixture fixture = EncryptedPayloadFixture.load();

  @Test
  void keyIdsAreDerivedFromTheKeysAsInTheSharedFixture() {
    CodecKeys keys = CodecKeys.parse(fixture.keyList());
    assertThat(keys.ids()).containsExactly(fixture.keyId(0), fixture.keyId(1));
    assertThat(keys.currentId()).isEqualTo(fixture.keyId(0));
  }

  @Test
  void keysMayBeSeparatedByCommasSpacesOrLinesWithCommentLinesAndRepeatsCollapse() {
    String text = "# rotated 2026-12-01\n" + fixture.key(0) + "\n\n" + fixture.key(1) + " , " + fixture.key(0) + "\n";
    assertThat(CodecKeys.parse(text).ids()).containsExactly(fixture.keyId(0), fixture.keyId(1));
  }

  @Test
  void aKeyOfTheWrongLengthIsRefusedByPositionWithoutEchoingIt() {
    String shortKey = Base64.getEncoder().encodeToString(new byte[16]);
    assertThatThrownBy(() -> CodecKeys.parse(fixture.key(0) + "," + shortKey))
        .hasMessage("key 2 has 16 bytes, not 32: give a base64-encoded 256-bit key, e.g. from `openssl rand -base64 32`")
        .message().doesNotContain(shortKey);
  }

  @Test
  void textThatIsNotBase64OrHoldsNoKeyIsRefused() {
    assertThatThrownBy(() -> CodecKeys.parse("not*base64!")).hasMessageStartingWith("key 1 is not base64")
        .message().doesNotContain("not*base64!");
    assertThatThrownBy(() -> CodecKeys.parse(" \n# only a comment\n")).hasMessageStartingWith("holds no key");
  }

  @Test
  void printingTheKeysShowsOnlyTheirIds() {
    assertThat(CodecKeys.parse(fixture.keyList()).toString())
        .isEqualTo("CodecKeys[" + fixture.keyId(0) + ", " + fixture.keyId(1) + "]");
  }
}
