// Serves Apache Iceberg's REST catalog protocol on 127.0.0.1 only, for the tests: Iceberg's own
// RESTCatalogAdapter (the reference implementation of every route) behind its RESTCatalogServlet,
// over a JdbcCatalog on a SQLite file and a local warehouse. Iceberg's RESTCatalogServer does the
// same but binds every interface (Jetty's Server(port)) with SO_REUSEPORT, and has no setting to
// change either.
//
//   java -cp '.cache/iceberg-rest/libs/*:.cache/iceberg-rest/classes' Launcher <port> <sqlite-file> <warehouse-uri>

import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.rest.RESTCatalogAdapter;
import org.apache.iceberg.rest.RESTCatalogServlet;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

public final class Launcher {
  private Launcher() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: Launcher <port> <sqlite-file> <warehouse-uri>");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    Map<String, String> props = new HashMap<>();
    props.put("catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog");
    props.put("uri", "jdbc:sqlite:" + args[1]);
    props.put("jdbc.schema-version", "V1");
    props.put("warehouse", args[2]);
    Catalog catalog = CatalogUtil.buildIcebergCatalog("rest_backend", props, new Configuration());

    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.addServlet(new ServletHolder(new RESTCatalogServlet(new RESTCatalogAdapter(catalog))), "/*");

    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    server.addConnector(connector);
    server.setHandler(context);
    server.start();
    System.out.println("Iceberg REST catalog listening on 127.0.0.1:" + connector.getLocalPort());
    server.join();
  }
}
