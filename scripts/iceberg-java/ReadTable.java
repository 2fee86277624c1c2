// Reads one table of our SQLite catalog with Apache Iceberg's Java library, the strictest reader
// the tests have: JdbcCatalog over the catalog file, HadoopFileIO over the file:// warehouse,
// planning through Iceberg's own manifest and manifest-list readers and reading rows with
// iceberg-data's generic Parquet reader. Prints one JSON object on stdout:
//   {"rows": [[v, ...], ...], "columns": [...], "files": N, "manifests": N, "snapshot": id}
// with every value as its Java string form (null as null), rows in file order.
//
//   java -cp '.cache/iceberg-java/libs/*:.cache/iceberg-java/classes' ReadTable \
//        CATALOG_NAME SQLITE_PATH WAREHOUSE NAMESPACE.TABLE

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;

public class ReadTable {
  public static void main(String[] args) throws Exception {
    JdbcCatalog catalog = new JdbcCatalog();
    catalog.setConf(new Configuration());
    Map<String, String> props = new HashMap<>();
    props.put("uri", "jdbc:sqlite:" + args[1]);
    props.put("jdbc.schema-version", "V1");
    props.put("warehouse", args[2]);
    catalog.initialize(args[0], props);
    Table table = catalog.loadTable(TableIdentifier.parse(args[3]));

    int files = 0;
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      for (FileScanTask ignored : tasks) files++;
    }
    int manifests = table.currentSnapshot() == null ? 0 : table.currentSnapshot().allManifests(table.io()).size();

    List<Types.NestedField> columns = table.schema().columns();
    StringBuilder out = new StringBuilder("{\"columns\":[");
    for (int i = 0; i < columns.size(); i++) out.append(i > 0 ? "," : "").append(quote(columns.get(i).name()));
    out.append("],\"rows\":[");
    boolean first = true;
    try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
      for (Record r : rows) {
        out.append(first ? "" : ",").append('[');
        first = false;
        for (int i = 0; i < columns.size(); i++) {
          Object v = r.getField(columns.get(i).name());
          out.append(i > 0 ? "," : "").append(v == null ? "null" : quote(v.toString()));
        }
        out.append(']');
      }
    }
    out.append("],\"files\":").append(files).append(",\"manifests\":").append(manifests);
    out.append(",\"snapshot\":").append(table.currentSnapshot() == null ? "null" : quote(Long.toString(table.currentSnapshot().snapshotId())));
    out.append('}');
    System.out.println(out);
    catalog.close();
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
