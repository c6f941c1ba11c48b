// CSV as admins write it: quotes, commas and line breaks inside values, a BOM, CRLF, blank lines.
import { describe, expect, it } from "vitest";
import { csvToImportRows, parseCsv } from "./host-import";

describe("parseCsv", () => {
  it("reads quoted fields with commas, doubled quotes and line breaks, and keeps each row's first line", () => {
    const rows = parseCsv('\ufeffname,notes\r\na,"one, two"\r\n\r\nb,"say ""hi""\nthere"\nc,');
    expect(rows).toEqual([
      { line: 1, cells: ["name", "notes"] },
      { line: 2, cells: ["a", "one, two"] },
      { line: 4, cells: ["b", 'say "hi"\nthere'] },
      { line: 6, cells: ["c", ""] },
    ]);
  });
});

describe("csvToImportRows", () => {
  it("turns columns into import rows: MAC and tag lists, power parameters under power", () => {
    const { rows, errors } = csvToImportRows("Name,MAC,tags,power_driver,power_address,power_port\nn1,52:54:00:00:00:01; 52:54:00:00:00:02,gpu rack:b2,ipmi,10.0.0.5,623\nn2,52:54:00:00:00:03,,,,");
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      { line: 2, value: { name: "n1", macs: ["52:54:00:00:00:01", "52:54:00:00:00:02"], tags: ["gpu", "rack:b2"], power: { driver: "ipmi", params: { address: "10.0.0.5", port: "623" } } } },
      { line: 3, value: { name: "n2", macs: ["52:54:00:00:00:03"] } },
    ]);
  });

  it("refuses the whole file for a secret or unknown column, or a missing name or macs column", () => {
    expect(csvToImportRows("name,macs,power_password\n").errors[0]!.message).toMatch(/^Column power_password: Kiln does not take passwords/);
    expect(csvToImportRows("name,macs,colour\n").errors[0]!.message).toMatch(/^Column “colour” is not one Kiln knows/);
    expect(csvToImportRows("name\nn1").errors.map((e) => e.message)).toEqual([expect.stringMatching(/^The header line has no macs column/)]);
    expect(csvToImportRows("").errors[0]!.message).toMatch(/^The CSV is empty/);
  });

  it("names a line with more cells than the header", () => {
    expect(csvToImportRows("name,macs\nn1,52:54:00:00:00:01,extra").errors).toEqual([
      { row: 1, line: 2, message: 'it has 3 cells but the header has 2 columns (a comma inside a value needs "quotes").' },
    ]);
  });
});
