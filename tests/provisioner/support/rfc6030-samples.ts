// RFC 6030's own encrypted examples (Figure 6: pre-shared key; Figure 7: PBKDF2 with password
// "qwerty"), as an independent check of our decryption and MAC code. The RFC's keys are HOTP; the
// algorithm URI and the TOTP parameters are substituted (the MAC covers only the encrypted secret).
// Both decrypt to the RFC 4226 test secret "12345678901234567890".
export const RFC6030_SECRET = Buffer.from("12345678901234567890");
export const RFC6030_PASSWORD = "qwerty";
export const RFC6030_PRE_SHARED_KEY_HEX = "12345678901234567890123456789012";

const keyPackage = (algorithmUri: string, serial: string, cipherValue: string, mac: string) => `
  <pskc:KeyPackage>
    <pskc:DeviceInfo>
      <pskc:Manufacturer>Manufacturer</pskc:Manufacturer>
      <pskc:SerialNo>${serial}</pskc:SerialNo>
    </pskc:DeviceInfo>
    <pskc:Key Id="${serial}" Algorithm="${algorithmUri}">
      <pskc:Issuer>Issuer</pskc:Issuer>
      <pskc:AlgorithmParameters>
        <pskc:ResponseFormat Length="8" Encoding="DECIMAL"/>
      </pskc:AlgorithmParameters>
      <pskc:Data>
        <pskc:Secret>
          <pskc:EncryptedValue>
            <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
            <xenc:CipherData>
              <xenc:CipherValue>
                ${cipherValue}
              </xenc:CipherValue>
            </xenc:CipherData>
          </pskc:EncryptedValue>
          <pskc:ValueMAC>${mac}</pskc:ValueMAC>
        </pskc:Secret>
        <pskc:Time><pskc:PlainValue>0</pskc:PlainValue></pskc:Time>
        <pskc:TimeInterval><pskc:PlainValue>60</pskc:PlainValue></pskc:TimeInterval>
      </pskc:Data>
      <pskc:UserId>jdupont</pskc:UserId>
    </pskc:Key>
  </pskc:KeyPackage>`;

/** Figure 7 (PBKDF2): one key per algorithm URI given, serials 987654321, 987654322… */
export function rfc6030PasswordFile(algorithmUris: string[], mac = "LP6xMvjtypbfT9PdkJhBZ+D6O4w="): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<pskc:KeyContainer xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#"
  xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Version="1.0">
  <pskc:EncryptionKey>
    <xenc11:DerivedKey>
      <xenc11:KeyDerivationMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">
        <pkcs5:PBKDF2-params>
          <Salt><Specified>Ej7/PEpyEpw=</Specified></Salt>
          <IterationCount>1000</IterationCount>
          <KeyLength>16</KeyLength>
          <PRF/>
        </pkcs5:PBKDF2-params>
      </xenc11:KeyDerivationMethod>
      <xenc11:MasterKeyName>My Password 1</xenc11:MasterKeyName>
    </xenc11:DerivedKey>
  </pskc:EncryptionKey>
  <pskc:MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
    <pskc:MACKey>
      <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
      <xenc:CipherData>
        <xenc:CipherValue>2GTTnLwM3I4e5IO5FkufoOEiOhNj91fhKRQBtBJYluUDsPOLTfUvoU2dStyOwYZx</xenc:CipherValue>
      </xenc:CipherData>
    </pskc:MACKey>
  </pskc:MACMethod>${algorithmUris.map((uri, i) => keyPackage(uri, String(987654321 + i), "oTvo+S22nsmS2Z/RtcoF8Hfh+jzMe0RkiafpoDpnoZTjPYZu6V+A4aEn032yCr4f", mac)).join("")}
</pskc:KeyContainer>
`;
}

/** Figure 6 (pre-shared key "12345678901234567890123456789012" hex). */
export function rfc6030PreSharedKeyFile(algorithmUri: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<pskc:KeyContainer Version="1.0" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
  <pskc:EncryptionKey>
    <ds:KeyName>Pre-shared-key</ds:KeyName>
  </pskc:EncryptionKey>
  <pskc:MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
    <pskc:MACKey>
      <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
      <xenc:CipherData>
        <xenc:CipherValue>ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX</xenc:CipherValue>
      </xenc:CipherData>
    </pskc:MACKey>
  </pskc:MACMethod>${keyPackage(algorithmUri, "987654330", "AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv", "Su+NvtQfmvfJzF6bmQiJqoLRExc=")}
</pskc:KeyContainer>
`;
}
